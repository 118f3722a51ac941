// The bot's XMPP side: a c2s client that turns one-to-one messages into
// commands (dispatch.ts) and sends back the reply.
import { client, type Client } from '@xmpp/client';
import type { Adhoc } from '../adhoc/adhoc.js';
import { attachAdhoc } from '../adhoc/attach.js';
import { addressFeatures } from '../adhoc/disco.js';
import { capsElement, capsVer } from '../xmpp/caps.js';
import { type Lang, pickLanguage } from '../i18n/i18n.js';
import { log } from '../log.js';
import { type Rate, SenderLimit, tooFast } from '../rate-limit.js';
import { attachDebug } from '../xmpp/debug.js';
import { guardStalls } from '../xmpp/stall-guard.js';
import { oobMessage } from '../xmpp/oob.js';
import { directInvitation, type Element, NS_ROSTER, presence, textMessage, xml } from '../xmpp/stanzas.js';
import type { Dispatcher } from './dispatch.js';
import { type AnswerLimits, decidePresence, PresenceAnswers } from './presence.js';
import { publishProfile } from './profile.js';

export interface BotOptions {
  service: string;
  jid: string;
  password: string;
  resource: string;
  debug?: boolean;
  /** Commands a sender may send per `duration` seconds. */
  rateLimit?: Rate;
  /** Admins are held to `rateLimit` too (default false: an admin making invites for a group is never cut off). */
  rateLimitAdmins?: boolean;
  /** BOT_NAME: its nickname, vCard name and disco identity (default "Invite bot"). */
  name?: string;
  /** ADMINS (bare JIDs): they may have the bot as a contact whatever their domain. */
  admins?: readonly string[];
  /** PUBLIC_URL, for the vCard. */
  publicUrl?: string;
  /** DEFAULT_LANGUAGE: replies' language when the message's (or the stream's) is not one we have. */
  language?: Lang;
  /** Limits on answers to presence subscriptions (tests make them small). */
  presenceLimits?: AnswerLimits;
}

/** Senders whose last language is remembered; past it, the one heard from longest ago is forgotten. */
export const LANGUAGES_KEPT = 10_000;

const CARBONS = 'urn:xmpp:carbons:2';

interface CommandMessage {
  /** Full JID to answer. */
  from: string;
  /** Bare JID, lower case: who is asking. */
  sender: string;
  body: string;
  type: 'chat' | 'normal';
  /** The language to answer in: the message's xml:lang, else the stream's default, mapped to one of ours. */
  lang: Lang;
}

export interface LanguageDefaults {
  /** The xml:lang of the stream header the server sent, if any. */
  stream?: string;
  /** DEFAULT_LANGUAGE: when neither tag is one of ours. */
  fallback: Lang;
}

/**
 * The language of a message: its body's `xml:lang`, else the message's (Prosody stamps each stanza with its
 * sender's stream language, "en" when the sender's client declares none), else the
 * stream's default, as one of ours ("de-AT" is German); a tag we have no catalogue
 * for gives DEFAULT_LANGUAGE.
 */
export function messageLanguage(stanza: Element, d: LanguageDefaults): Lang {
  // The body read as the command may say its own language (RFC 6121 §5.2.3); else the stanza's.
  const own = stanza.getChild('body')?.attrs['xml:lang'] ?? stanza.attrs['xml:lang'];
  const tag = typeof own === 'string' && own.trim() ? own : d.stream;
  return pickLanguage(tag, d.fallback);
}

/** The sender and text of a message the bot should answer, or undefined. */
export function commandMessage(stanza: Element, selfBare: string, langs: LanguageDefaults = { fallback: 'en' }): CommandMessage | undefined {
  if (!stanza.is('message')) return undefined;
  const type = stanza.attrs.type ?? 'normal';
  if (type !== 'chat' && type !== 'normal') return undefined; // groupchat, headline, error
  if (stanza.getChild('received', CARBONS) || stanza.getChild('sent', CARBONS)) return undefined;
  const from = String(stanza.attrs.from ?? '');
  const sender = from.split('/')[0]!.toLowerCase();
  // No local part: the server or a component (e.g. mod_watchregistrations' notices), never a person.
  if (!sender.includes('@') || sender === selfBare) return undefined;
  const body = stanza.getChildText('body');
  if (!body || !body.trim()) return undefined;
  return { from, sender, body, type, lang: messageLanguage(stanza, langs) };
}

export class Bot {
  readonly xmpp: Client;
  private readonly limiter: SenderLimit;
  /** Per sender, the reply being worked on: answers go out in the order asked. */
  private readonly queues = new Map<string, Promise<void>>();
  /** Each sender's last language (bare JID → language), at most LANGUAGES_KEPT, in the order last heard. */
  private readonly languages = new Map<string, Lang>();
  private readonly presenceAnswers: PresenceAnswers;
  /** The xml:lang of the server's stream header, for messages that carry none. */
  private streamLang?: string;
  readonly name: string;
  readonly language: Lang;
  /** The XEP-0115 element of its presence: what disco#info at its full JID answers (with ad-hoc commands). */
  private caps?: Element;

  constructor(private readonly opts: BotOptions, private readonly dispatcher: Dispatcher, adhoc?: Adhoc) {
    const [username, domain] = opts.jid.split('@') as [string, string];
    this.name = opts.name ?? 'Invite bot';
    this.language = opts.language ?? 'en';
    this.xmpp = client({ service: opts.service, domain, username, password: opts.password, resource: opts.resource });
    this.limiter = new SenderLimit(opts.rateLimit ?? { points: 10, duration: 30 });
    this.presenceAnswers = new PresenceAnswers(opts.presenceLimits);
    const policy = { domain, admins: (opts.admins ?? []).map((a) => a.toLowerCase()) };
    if (opts.debug) attachDebug(this.xmpp, 'bot');
    guardStalls(this.xmpp, 'bot connection');
    this.xmpp.on('error', (e: Error) => log.warn(`bot connection: ${e.message}`));
    this.xmpp.on('offline', () => log.info('bot offline'));
    // The header of each stream the server opens (the last one, after authentication, is the one stanzas come on).
    this.xmpp.on('open', (header?: Element) => {
      const lang = header?.attrs['xml:lang'];
      this.streamLang = typeof lang === 'string' && lang ? lang : undefined;
    });
    this.xmpp.on('online', (address) => {
      log.info(`bot online as ${address}`);
      // Asking for the roster makes this session one the server tells of `unsubscribe` and
      // `unsubscribed` (Prosody sends those to "interested" resources only); the list is not kept.
      this.xmpp.iqCaller.get(xml('query', { xmlns: NS_ROSTER }))
        .catch((e: Error) => log.warn(`bot: could not fetch its roster: ${e.message}`))
        .finally(() => {
          // Without presence, chat to the bot's bare JID is not delivered to it. Initial presence
          // also makes the server send it to every contact and hand over subscription requests
          // that came while the bot was away.
          this.send(presence(this.caps));
        });
      void publishProfile(this.xmpp.iqCaller, { name: this.name, domain, publicUrl: opts.publicUrl });
    });
    // Roster pushes (from our own account only) are acknowledged; nothing here keeps the roster.
    this.xmpp.iqCallee.set(NS_ROSTER, 'query', ({ stanza }: { stanza: Element }) => {
      const from = String(stanza.attrs.from ?? '').toLowerCase();
      return !from || from === opts.jid.toLowerCase() || from.split('/')[0] === opts.jid.toLowerCase() ? true : undefined;
    });
    if (adhoc) {
      const identity = { category: 'client', type: 'bot', name: this.name };
      // At the bound full JID only: the server answers IQs to the bot's bare JID itself.
      attachAdhoc(this.xmpp.iqCallee, adhoc, { address: () => this.xmpp.jid?.toString(), identity });
      // Clients learn from the presence that the commands are here (XEP-0115).
      this.caps = capsElement(capsVer([identity], addressFeatures()));
    }
    this.xmpp.on('stanza', (stanza: Element) => {
      if (stanza.is('presence')) {
        this.onPresence(stanza, policy);
        return;
      }
      const msg = commandMessage(stanza, opts.jid, { stream: this.streamLang, fallback: this.language });
      if (msg) {
        this.heard(msg.sender, msg.lang);
        void this.answer(msg);
      }
    });
  }

  /** The language `jid` (bare) last wrote to the bot in; DEFAULT_LANGUAGE for someone not heard from. */
  languageOf(jid: string): Lang {
    return this.languages.get(jid.split('/')[0]!.toLowerCase()) ?? this.language;
  }

  private heard(sender: string, lang: Lang): void {
    this.languages.delete(sender);
    this.languages.set(sender, lang);
    if (this.languages.size > LANGUAGES_KEPT) this.languages.delete(this.languages.keys().next().value!);
  }

  /** Subscription requests and their endings: see presence.ts. Nothing kept per sender beyond its bounded tables. */
  private onPresence(stanza: Element, policy: { domain: string; admins: string[] }): void {
    const d = decidePresence(stanza, this.opts.jid, policy, this.name);
    if (!d) return;
    const admitted = this.presenceAnswers.admit(d);
    if (admitted.droppedBefore) {
      log.warn(`bot: ${admitted.droppedBefore} presence subscription answers left out over the limit (requests stay pending on the server until the bot's next login)`);
    }
    if (!admitted.ok) return;
    if (d.kind === 'accept') log.info(`bot: ${d.to} subscribed to the bot; subscribing back`);
    // A stranger's address is theirs to keep: its domain only, and at info.
    else if (d.kind === 'refuse') log.info(`bot: refused a presence subscription from an account of ${d.to.split('@')[1] ?? 'another server'}`);
    for (const s of d.send) this.send(s);
  }

  /**
   * A message from the bot that answers nothing (e.g. "your invite was used"). `lang`: the
   * language `body` is in (e.g. languageOf(to)), stamped as its xml:lang.
   */
  tell(to: string, body: string, lang?: Lang): void {
    this.send(textMessage(to, body, 'chat', lang));
  }

  /**
   * Invite `to` to a chat room (bare JID) with a XEP-0249 direct invitation. `reason`: the
   * sentence shown with it; `lang`: the language it is in (stamped as the message's xml:lang).
   */
  inviteToRoom(to: string, room: string, reason?: string, lang?: Lang): void {
    this.send(directInvitation(to, room, reason, lang));
  }

  private send(stanza: Element): void {
    this.xmpp.send(stanza).catch((e: Error) => log.warn(`bot: could not send: ${e.message}`));
  }

  /** Per sender: a first refusal says to slow down, later ones in the window are dropped. */
  private async admit(sender: string): Promise<'yes' | 'warn' | 'drop'> {
    const a = await this.limiter.take(sender);
    return a.ok ? 'yes' : a.firstRefusal ? 'warn' : 'drop';
  }

  private async answer(msg: CommandMessage): Promise<void> {
    const { sender } = msg;
    // Admission is decided on arrival, so a queue holds at most the limit plus one warning.
    const exempt = !this.opts.rateLimitAdmins && (await this.dispatcher.isAdmin(sender));
    const admitted = exempt ? 'yes' : await this.admit(sender);
    if (admitted === 'drop') return;
    const work = async () => {
      const attachments: string[] = [];
      const reply = admitted === 'warn'
        ? tooFast(this.limiter.rate.duration, msg.lang)
        : await this.dispatcher.handle(sender, msg.body, (url) => attachments.push(url), msg.lang);
      this.send(textMessage(msg.from, reply, msg.type, msg.lang));
      for (const url of attachments) this.send(oobMessage(msg.from, url, msg.type));
    };
    const queued = (this.queues.get(sender) ?? Promise.resolve())
      .then(work)
      .catch((e) => log.error(`bot: answering ${sender}: ${(e as Error).stack}`))
      .finally(() => {
        if (this.queues.get(sender) === queued) this.queues.delete(sender);
      });
    this.queues.set(sender, queued);
  }

  async start(): Promise<void> {
    await this.xmpp.start();
  }

  async stop(): Promise<void> {
    // First: a stop() that fails (the server already gone) leaves the status "disconnect",
    // and the next reconnect timer would bring the bot back for good.
    this.xmpp.reconnect.stop();
    await this.xmpp.stop().catch(() => {});
  }
}

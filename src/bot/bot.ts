// The bot's XMPP side: a c2s client that turns one-to-one messages into
// commands (dispatch.ts) and sends back the reply.
import { client, type Client } from '@xmpp/client';
import type { Adhoc } from '../adhoc/adhoc.js';
import { attachAdhoc } from '../adhoc/attach.js';
import { log } from '../log.js';
import { SenderLimit, tooFast } from '../rate-limit.js';
import { attachDebug } from '../xmpp/debug.js';
import { oobMessage } from '../xmpp/oob.js';
import { type Element, presence, textMessage } from '../xmpp/stanzas.js';
import type { Dispatcher } from './dispatch.js';

export interface BotOptions {
  service: string;
  jid: string;
  password: string;
  resource: string;
  debug?: boolean;
  /** Commands a sender may send per `duration` seconds. */
  rateLimit?: { points: number; duration: number };
  /** Admins are held to `rateLimit` too (default false: an admin making invites for a group is never cut off). */
  rateLimitAdmins?: boolean;
}

const CARBONS = 'urn:xmpp:carbons:2';

interface CommandMessage {
  /** Full JID to answer. */
  from: string;
  /** Bare JID, lower case: who is asking. */
  sender: string;
  body: string;
  type: 'chat' | 'normal';
}

/** The sender and text of a message the bot should answer, or undefined. */
export function commandMessage(stanza: Element, selfBare: string): CommandMessage | undefined {
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
  return { from, sender, body, type };
}

export class Bot {
  readonly xmpp: Client;
  private readonly limiter: SenderLimit;
  /** Per sender, the reply being worked on: answers go out in the order asked. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly opts: BotOptions, private readonly dispatcher: Dispatcher, adhoc?: Adhoc) {
    const [username, domain] = opts.jid.split('@') as [string, string];
    this.xmpp = client({ service: opts.service, domain, username, password: opts.password, resource: opts.resource });
    this.limiter = new SenderLimit(opts.rateLimit ?? { points: 10, duration: 30 });
    if (opts.debug) attachDebug(this.xmpp, 'bot');
    this.xmpp.on('error', (e: Error) => log.warn(`bot connection: ${e.message}`));
    this.xmpp.on('offline', () => log.info('bot offline'));
    this.xmpp.on('online', (address) => {
      log.info(`bot online as ${address}`);
      // Without presence, chat to the bot's bare JID is not delivered to it.
      this.send(presence());
    });
    if (adhoc) {
      // At the bound full JID only: the server answers IQs to the bot's bare JID itself.
      attachAdhoc(this.xmpp.iqCallee, adhoc, {
        address: () => this.xmpp.jid?.toString(),
        identity: { category: 'client', type: 'bot', name: 'Invite bot' },
      });
    }
    this.xmpp.on('stanza', (stanza: Element) => {
      const msg = commandMessage(stanza, opts.jid);
      if (msg) void this.answer(msg);
    });
  }

  /** A message from the bot that answers nothing (e.g. "your invite was used"). */
  tell(to: string, body: string): void {
    this.send(textMessage(to, body));
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
        ? tooFast(this.limiter.rate.duration)
        : await this.dispatcher.handle(sender, msg.body, (url) => attachments.push(url));
      this.send(textMessage(msg.from, reply, msg.type));
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
    await this.xmpp.stop().catch(() => {});
  }
}

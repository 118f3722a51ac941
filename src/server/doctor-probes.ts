// What `npm run invites -- doctor` asks the configured server, as facts: each
// probe catches its own failure, so one missing piece never hides the others.
// The bot logs in with a resource of its own and sends no presence (the running
// bot keeps its session); the component connects only when nobody answers at
// its address: ejabberd 23.01 accepts a second connection for a component
// domain (Prosody refuses it with `conflict`), and would then share the running
// service's traffic with this one.
import { randomBytes } from 'node:crypto';
import { client, type Client } from '@xmpp/client';
import ConnectionTCP from '@xmpp/connection-tcp';
import iqCaller from '@xmpp/iq/caller.js';
import middleware from '@xmpp/middleware';
import { ComponentConnection } from '../component/connection.js';
import type { Config } from '../config.js';
import { AdminCommands } from '../xmpp/admin-commands.js';
import { NS_BRIDGE, bridgeElement } from '../xmpp/bridge-protocol.js';
import { type Element, xml } from '../xmpp/stanzas.js';
import { identify } from './identify.js';
import type { AdminResult, Software } from './server.js';
import { existenceProbe } from './xep0133/existence.js';

export type DoctorConfig = Pick<Config, 'xmppService' | 'xmppDomain' | 'botJid' | 'botPassword' | 'componentDomain' | 'componentService' | 'componentSecret' | 'registrationInviteOnly'>;

type Failure = Extract<AdminResult, { ok: false }>;

export interface DoctorFacts {
  bot: { ok: true } | { ok: false; error: string };
  /** XEP-0092 or the disco identity, over the bot's connection. */
  software?: Software;
  features: string[];
  component:
    | { state: 'not-configured' }
    /** Connected by this doctor (and disconnected again). */
    | { state: 'connected' }
    /** Something already answers at the component's address: the running service. */
    | { state: 'held'; how: 'answers' | 'conflict' }
    | { state: 'refused'; error: string }
    | { state: 'unreachable'; error: string };
  /** What a bridge said of itself; undefined: no bridge seen. */
  bridge?: { server?: string; version?: string; via: 'info' | 'account' | 'stream-features' };
  /** XEP-0356 as the server announced it to the component; null: nothing announced; undefined: not seen (not connected here). */
  privilege?: { ns: string; perms: { access: string; type: string }[] } | null;
  xep0133?: { nodes: string[]; botExists: boolean | undefined } | Failure;
  registration: { advertised: boolean; tokens: boolean } | { error: string };
}

const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const NS_STREAMS = 'http://etherx.jabber.org/streams';
const WAIT_MS = 5_000;

const describe = (e: unknown): string => {
  const err = e as { condition?: string; text?: string; message?: string };
  return err.condition ? `${err.condition}${err.text ? ` (${err.text})` : ''}` : err.message || String(e);
};

class Unauthenticated extends ConnectionTCP {}
Unauthenticated.prototype.NS = 'jabber:client';

/** The stream features an unauthenticated client is offered: in-band registration, and the bridge's token features. */
async function registration(service: string, domain: string): Promise<DoctorFacts['registration']> {
  const entity = new Unauthenticated({ service, domain });
  entity.on('error', () => {});
  try {
    const features = new Promise<Element>((resolve, reject) => {
      entity.on('nonza', (el: Element) => { if (el.is('features', NS_STREAMS)) resolve(el); });
      setTimeout(() => reject(new Error('no stream features within 5 s')), WAIT_MS).unref();
    });
    await entity.connect(service);
    await entity.open({ domain });
    const f = await features;
    return {
      advertised: f.getChild('register', 'http://jabber.org/features/iq-register') !== undefined,
      tokens: f.getChild('register', 'urn:xmpp:ibr-token:0') !== undefined || f.getChild('register', 'urn:xmpp:invite') !== undefined,
    };
  } catch (e) {
    return { error: describe(e) };
  } finally {
    await entity.disconnect().catch(() => {});
  }
}

async function loginBot(config: DoctorConfig): Promise<{ xmpp?: Client; error?: string }> {
  const [username, domain] = config.botJid.split('@') as [string, string];
  const xmpp = client({ service: config.xmppService, domain, username, password: config.botPassword, resource: `doctor-${randomBytes(4).toString('hex')}` });
  xmpp.on('error', () => {});
  try {
    await xmpp.start();
    return { xmpp };
  } catch (e) {
    xmpp.reconnect.stop(); // no retry in the background of a one-shot check
    await xmpp.stop().catch(() => {});
    return { error: describe(e) };
  }
}

/** Does something answer disco#info at the component's address (as our running component does)? */
async function componentAnswers(bot: Client, componentDomain: string): Promise<boolean> {
  try {
    await bot.iqCaller.request(xml('iq', { type: 'get', to: componentDomain }, xml('query', { xmlns: NS_DISCO_INFO })), 3_000);
    return true;
  } catch {
    // A bounce from the server (remote-server-timeout, service-unavailable): nobody is connected there.
    return false;
  }
}

interface OwnComponent {
  state: DoctorFacts['component'];
  privilege: DoctorFacts['privilege'];
  bridge?: DoctorFacts['bridge'];
}

/** Connect as the component, see what the server announces (XEP-0356), ask the bridge, disconnect. */
async function connectComponent(config: DoctorConfig): Promise<OwnComponent> {
  const entity = new ComponentConnection({ service: config.componentService, domain: config.componentDomain });
  const mw = middleware({ entity });
  const caller = iqCaller({ middleware: mw, entity });
  let privilege: DoctorFacts['privilege'] = null;
  entity.on('element', (el: Element) => {
    const p = el.is('message') ? el.getChildren('privilege').find((c) => String(c.attrs.xmlns ?? '').startsWith('urn:xmpp:privilege:')) : undefined;
    if (p) {
      privilege = { ns: String(p.attrs.xmlns), perms: p.getChildren('perm').map((x) => ({ access: String(x.attrs.access ?? ''), type: String(x.attrs.type ?? '') })) };
    }
  });
  let streamError: unknown;
  entity.on('error', (e: unknown) => { streamError ??= e; });
  entity.on('open', (header: { attrs: Record<string, string> }) => {
    entity.authenticate(header.attrs.id ?? '', config.componentSecret!).catch((e: unknown) => { streamError ??= e; });
  });
  try {
    await Promise.race([
      entity.start(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no handshake within 5 s')), WAIT_MS).unref()),
    ]);
  } catch (e) {
    await entity.stop().catch(() => {});
    const err = (streamError ?? e) as { condition?: string; code?: string };
    if (err.condition === 'conflict') return { state: { state: 'held', how: 'conflict' }, privilege: undefined };
    if (err.condition === 'not-authorized' || err.condition) return { state: { state: 'refused', error: describe(err) }, privilege: undefined };
    return { state: { state: 'unreachable', error: describe(streamError ?? e) }, privilege: undefined };
  }
  try {
    // The server announces XEP-0356 right after the handshake (both servers, seen within milliseconds).
    await new Promise((r) => setTimeout(r, 700));
    let bridge: DoctorFacts['bridge'];
    const info = await caller.request(xml('iq', { type: 'get', to: config.xmppDomain }, bridgeElement('info')), 3_000).catch(() => undefined);
    const el = info?.getChild('info', NS_BRIDGE);
    if (el?.attrs.server) {
      bridge = { server: String(el.attrs.server).toLowerCase(), ...(el.attrs.version ? { version: String(el.attrs.version) } : {}), via: 'info' };
    } else {
      const account = await caller.request(xml('iq', { type: 'get', to: config.xmppDomain }, bridgeElement('account', { jid: config.botJid })), 3_000).catch(() => undefined);
      if (account?.getChild('account', NS_BRIDGE)) bridge = { via: 'account' };
    }
    return { state: { state: 'connected' }, privilege, ...(bridge ? { bridge } : {}) };
  } finally {
    await entity.stop().catch(() => {});
  }
}

export async function gatherFacts(config: DoctorConfig): Promise<DoctorFacts> {
  const service = config.xmppService!;
  const [reg, login] = await Promise.all([registration(service, config.xmppDomain), loginBot(config)]);
  const facts: DoctorFacts = {
    bot: login.xmpp ? { ok: true } : { ok: false, error: login.error ?? 'unknown error' },
    features: [],
    component: { state: 'not-configured' },
    registration: reg,
  };
  const bot = login.xmpp;
  try {
    if (bot) {
      const id = await identify(bot.iqCaller, config.xmppDomain);
      facts.features = id.features;
      if (id.software) facts.software = id.software;
      const admin = new AdminCommands(bot.iqCaller, config.xmppDomain, WAIT_MS);
      const listed = await admin.list();
      // The list alone is not enough (ejabberd lists commands it then refuses): a harmless read-only command too.
      if (listed.ok) {
        const botExists = await existenceProbe(admin, id.software, id.features)(config.botJid).catch(() => undefined);
        facts.xep0133 = { nodes: listed.nodes, botExists };
      } else {
        facts.xep0133 = listed;
      }
    }
    if (config.componentSecret) {
      if (bot && (await componentAnswers(bot, config.componentDomain))) {
        facts.component = { state: 'held', how: 'answers' };
      } else {
        const own = await connectComponent(config);
        facts.component = own.state;
        if (own.privilege !== undefined) facts.privilege = own.privilege;
        if (own.bridge) facts.bridge = own.bridge;
      }
    }
    // The bridge adds its token features to every unauthenticated stream: seen without the component too.
    if (!facts.bridge && 'tokens' in reg && reg.tokens) facts.bridge = { via: 'stream-features' };
  } finally {
    await bot?.stop().catch(() => {});
  }
  return facts;
}

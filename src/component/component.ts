// The paired XEP-0114 component: the token authority on the wire. It answers
// the server's bridge (bridge.ts) and carries the bridged adapters' questions
// to it (src/server/bridged.ts: account, nodeprep, grant, befriend, bookmark, info).
import iqCallee, { type IQCallee } from '@xmpp/iq/callee.js';
import iqCaller, { type IQCaller } from '@xmpp/iq/caller.js';
import middleware from '@xmpp/middleware';
import reconnect from '@xmpp/reconnect';
import { log } from '../log.js';
import { NS_BRIDGE, bridgeElement } from '../xmpp/bridge-protocol.js';
import { attachDebug } from '../xmpp/debug.js';
import { guardStalls } from '../xmpp/stall-guard.js';
import { iq } from '../xmpp/stanzas.js';
import { ComponentConnection } from './connection.js';

export interface ComponentOptions {
  service: string;
  domain: string;
  secret: string;
  debug?: boolean;
  /** Reconnect delays grow from `min` to `max` milliseconds, doubling. */
  backoff?: { min: number; max: number };
}

// Back within 2 s of a drop: while no component is connected, anyone holding the
// secret could connect in its place and decide registrations and resets.
const DEFAULT_BACKOFF = { min: 100, max: 2_000 };

export class Component {
  readonly xmpp: ComponentConnection;
  readonly iqCaller: IQCaller<ComponentConnection>;
  readonly iqCallee: IQCallee<ComponentConnection>;
  private readonly reconnect;

  constructor(private readonly opts: ComponentOptions) {
    const entity = new ComponentConnection({ service: opts.service, domain: opts.domain });
    this.xmpp = entity;
    const mw = middleware({ entity });
    this.iqCaller = iqCaller({ middleware: mw, entity });
    this.iqCallee = iqCallee({ middleware: mw, entity });
    if (opts.debug) attachDebug(entity, 'component');
    guardStalls(entity, 'component connection');

    // xmpp.js reconnects after a fixed delay; double it on each failure instead.
    const backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.reconnect = reconnect({ entity });
    this.reconnect.delay = backoff.min;
    this.reconnect.on('reconnecting', () => {
      this.reconnect.delay = Math.min(this.reconnect.delay * 2, backoff.max);
    });

    entity.on('open', (header: { attrs: Record<string, string> }) => {
      entity.authenticate(header.attrs.id ?? '', opts.secret).catch((e: Error) => entity.emit('error', e));
    });
    entity.on('online', () => {
      this.reconnect.delay = backoff.min;
      log.info(`component online as ${opts.domain}`);
    });
    entity.on('offline', () => log.info('component offline'));
    entity.on('disconnect', () => {
      if (this.running) log.warn(`component disconnected; reconnecting in ${this.reconnect.delay} ms`);
    });
    entity.on('error', (e: Error & { condition?: string }) => {
      const hint = e.condition === 'not-authorized' ? ' (check COMPONENT_SECRET against the server\'s component_secret)' : '';
      log.warn(`component connection: ${e.message}${hint}`);
    });
  }

  private running = false;

  /** The wait before the next reconnection attempt, in milliseconds. */
  get retryDelay(): number {
    return this.reconnect.delay;
  }

  get online(): boolean {
    return this.xmpp.status === 'online';
  }

  /**
   * Connect. A refused handshake (wrong secret) throws; a server not reachable
   * yet does not: the reconnect loop keeps trying with backoff, and the bridge
   * refuses registrations ("try again later") meanwhile.
   */
  async start(): Promise<void> {
    this.running = true;
    this.reconnect.stop(); // idempotent re-arm after a stop()
    this.reconnect.start();
    try {
      await this.xmpp.start();
    } catch (e) {
      if ((e as { condition?: string }).condition === 'not-authorized' || /handshake/.test((e as Error).message)) {
        await this.stop();
        throw e;
      }
      log.warn(`component: ${this.opts.service} not reachable yet (${(e as Error).message}); retrying in ${this.reconnect.delay} ms`);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.reconnect.stop();
    await this.xmpp.stop().catch(() => {});
  }

  /** Ask the server's bridge whether an account exists and is a server admin; undefined when it cannot be asked now. */
  async account(host: string, jid: string, timeoutMs = 10_000): Promise<{ exists: boolean; admin: boolean } | undefined> {
    if (!this.online) return undefined;
    try {
      const res = await this.iqCaller.request(iq('get', host, bridgeElement('account', { jid })), timeoutMs);
      const el = res.getChild('account', NS_BRIDGE);
      const exists = el?.attrs.exists;
      if (exists !== 'true' && exists !== 'false') return undefined;
      return { exists: exists === 'true', admin: el!.attrs.admin === 'true' };
    } catch {
      return undefined;
    }
  }

  /** The username as the server normalises it (nodeprep); null when it is not valid there, undefined when the server cannot be asked. */
  async nodeprep(host: string, username: string, timeoutMs = 3_000): Promise<string | null | undefined> {
    if (!this.online) return undefined;
    try {
      const res = await this.iqCaller.request(iq('get', host, bridgeElement('nodeprep', { username })), timeoutMs);
      const prepped = res.getChild('nodeprep', NS_BRIDGE)?.attrs.username;
      return typeof prepped === 'string' ? prepped : undefined;
    } catch (e) {
      return (e as { condition?: string }).condition === 'not-acceptable' ? null : undefined;
    }
  }

  /**
   * The bridge's `info` (which server and version it runs in); null when the server answered
   * but no bridge did (an error), undefined when the server cannot be asked now.
   */
  async info(host: string, timeoutMs = 3_000): Promise<{ server: string; version?: string } | null | undefined> {
    if (!this.online) return undefined;
    try {
      const res = await this.iqCaller.request(iq('get', host, bridgeElement('info')), timeoutMs);
      const server = res.getChild('info', NS_BRIDGE)?.attrs.server;
      if (typeof server !== 'string' || !server) return null;
      const version = res.getChild('info', NS_BRIDGE)?.attrs.version;
      return { server: server.toLowerCase(), ...(typeof version === 'string' && version ? { version } : {}) };
    } catch (e) {
      // A stanza error is the server's own answer (no bridge, or one without `info`); a timeout is not.
      return (e as { condition?: string }).condition ? null : undefined;
    }
  }

  /** Ask the server's bridge to give an existing account these roles (the server's names). */
  async grant(host: string, jid: string, roles: readonly string[]): Promise<void> {
    await this.iqCaller.request(iq('set', host, bridgeElement('grant', { jid, roles: roles.join(' ') })), 10_000);
  }

  /**
   * Ask the server's bridge to make two local users mutual contacts; with `group`, each is
   * in the other's roster under that roster group too (added to the groups it had).
   */
  async befriend(host: string, a: string, b: string, group?: string): Promise<void> {
    await this.iqCaller.request(iq('set', host, bridgeElement('befriend', { a, b, group })), 10_000);
  }

  /**
   * Ask the server's bridge to add a chat room to a local account's bookmarks (XEP-0402,
   * autojoin). `existed`: the account had a bookmark of that room already, left as it was.
   */
  async bookmark(host: string, jid: string, room: string, name?: string): Promise<{ existed: boolean }> {
    const res = await this.iqCaller.request(iq('set', host, bridgeElement('bookmark', { jid, room, name: name || undefined })), 10_000);
    return { existed: res.getChild('bookmark', NS_BRIDGE)?.attrs.existed === 'true' };
  }
}

// A c2s connection as the bot's account that only asks the server to make
// accounts (the web form's XEP-0133 commands): for instances sharing a database,
// which serve the web pages whether or not they hold the bot. It sends no
// presence, so chat to the bot's bare JID never reaches it, and has a resource of
// its own, so it never displaces the leader's bot.
import { randomBytes } from 'node:crypto';
import { client, type Client } from '@xmpp/client';
import { log } from '../log.js';
import { attachDebug } from './debug.js';
import { guardStalls } from './stall-guard.js';

export interface AdminConnectionOptions {
  service: string;
  jid: string;
  password: string;
  resource: string;
  debug?: boolean;
}

export class AdminConnection {
  readonly xmpp: Client;

  constructor(opts: AdminConnectionOptions) {
    const [username, domain] = opts.jid.split('@') as [string, string];
    const resource = `${opts.resource}-web-${randomBytes(4).toString('hex')}`;
    this.xmpp = client({ service: opts.service, domain, username, password: opts.password, resource });
    if (opts.debug) attachDebug(this.xmpp, 'web-admin');
    guardStalls(this.xmpp, 'web admin connection');
    this.xmpp.on('error', (e: Error) => log.warn(`web admin connection: ${e.message}`));
  }

  start(): Promise<unknown> {
    return this.xmpp.start();
  }

  async stop(): Promise<void> {
    this.xmpp.reconnect.stop(); // as the bot's (bot.ts): a failed stop must not reconnect later
    await this.xmpp.stop().catch(() => {});
  }
}

// A real xmpp.js client acting as a person who talks to the bot.
import { client, type Client } from '@xmpp/client';
import xml from '@xmpp/xml';
import type { Element } from '@xmpp/xml';

export interface User {
  jid: string;
  xmpp: Client;
  /** Every message received, in order. */
  inbox: Element[];
  /** Send a chat message to `to` and wait for the next message from it. */
  ask(to: string, body: string, timeoutMs?: number): Promise<string>;
  /** The next message from `from` (bare JID), or undefined after `timeoutMs`. */
  next(from: string, timeoutMs?: number): Promise<Element | undefined>;
  send(stanza: Element): Promise<void>;
  stop(): Promise<void>;
}

export async function connectUser(service: string, jid: string, password: string): Promise<User> {
  const [username, domain] = jid.split('@') as [string, string];
  // A resource of its own: two test sessions of one account must not kick each other off.
  const xmpp = client({ service, domain, username, password, resource: `test-${Math.random().toString(36).slice(2, 8)}` });
  xmpp.on('error', () => {});
  const inbox: Element[] = [];
  const waiters: { from: string; resolve: (el: Element) => void }[] = [];
  xmpp.on('stanza', (el: Element) => {
    // Error bounces (e.g. of a groupchat sent to a user) are kept, but are not replies.
    if (!el.is('message') || el.attrs.type === 'error') return;
    const from = String(el.attrs.from ?? '').split('/')[0];
    const i = waiters.findIndex((w) => w.from === from);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(el);
    else inbox.push(el);
  });
  // A failed login (wrong password) must not leave a reconnecting client behind: mocha would never exit.
  await xmpp.start().catch(async (e: unknown) => {
    xmpp.reconnect.stop();
    await xmpp.stop().catch(() => {});
    throw e;
  });
  await xmpp.send(xml('presence', {}));

  const next = (from: string, timeoutMs = 5000) => {
    const queued = inbox.findIndex((el) => String(el.attrs.from ?? '').split('/')[0] === from);
    if (queued >= 0) return Promise.resolve(inbox.splice(queued, 1)[0]);
    return new Promise<Element | undefined>((resolve) => {
      const waiter = { from, resolve: (el: Element | undefined) => { clearTimeout(timer); resolve(el); } };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        resolve(undefined);
      }, timeoutMs);
      waiters.push(waiter);
    });
  };

  return {
    jid,
    xmpp,
    inbox,
    next,
    send: (stanza) => xmpp.send(stanza),
    async ask(to, body, timeoutMs = 5000) {
      await xmpp.send(xml('message', { to, type: 'chat' }, xml('body', {}, body)));
      const reply = await next(to, timeoutMs);
      if (!reply) throw new Error(`no reply from ${to} to "${body.slice(0, 40)}"`);
      return reply.getChildText('body') ?? '';
    },
    // Reconnect first: a stop() that fails (its server already stopped) would leave it retrying
    // for good, and mocha would never exit.
    stop: () => { xmpp.reconnect.stop(); return xmpp.stop().then(() => undefined, () => undefined); },
  };
}

/** `user`'s roster items, as the server sends them. */
export async function rosterItems(user: User): Promise<Element[]> {
  const res = await user.xmpp.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
  return res.getChild('query', 'jabber:iq:roster')!.getChildren('item') as Element[];
}

/** Each contact's subscription and pending ask, by bare JID. */
export async function rosterOf(user: User): Promise<Map<string, { subscription: string; ask?: string }>> {
  return new Map((await rosterItems(user)).map((i) => [String(i.attrs.jid), { subscription: String(i.attrs.subscription), ask: i.attrs.ask as string | undefined }]));
}

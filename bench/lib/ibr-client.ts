// An invitee's client before it has an account, as in test/helpers/ibr.ts, but
// timed: a fresh TCP connection and stream, XEP-0445 preauth, XEP-0077 register.
// The time that counts is from the TCP connect to the server's registration
// reply (what the person waits for); closing the stream is measured apart.
import ConnectionTCP from '@xmpp/connection-tcp';
import iqCaller from '@xmpp/iq/caller.js';
import middleware from '@xmpp/middleware';
import xml from '@xmpp/xml';
import { now } from './stats.js';

class Unauthenticated extends ConnectionTCP {}
Unauthenticated.prototype.NS = 'jabber:client';

/** Generous: under a 1,000-way burst a stream may wait seconds for Prosody. */
const TIMEOUT_MS = 120_000;

export interface Timed {
  /** connect → registration reply, ms */
  total: number;
  /** TCP connect + stream header + features */
  open: number;
  preauth: number;
  register: number;
  /** our </stream> → server's </stream> and socket closed */
  close: number;
}

export class RegistrationError extends Error {
  constructor(readonly condition: string, readonly text: string) {
    super(`${condition}${text ? `: ${text}` : ''}`);
  }
}

/** Preauth (when there is a token) then register on a fresh connection; rejects with RegistrationError on a refusal. */
export async function timedRegistration(service: string, domain: string, user: { token?: string; username: string; password: string }): Promise<Timed> {
  const entity = new Unauthenticated({ service, domain, timeout: TIMEOUT_MS } as never);
  entity.on('error', () => {});
  const caller = iqCaller({ middleware: middleware({ entity }), entity });
  const t0 = now();
  let t1 = t0, t2 = t0, t3 = t0;
  try {
    const features = new Promise<void>((resolve) => entity.on('nonza', (el: { is(n: string, ns: string): boolean }) => el.is('features', 'http://etherx.jabber.org/streams') && resolve()));
    await entity.connect(service);
    await entity.open({ domain });
    await features;
    t1 = now();
    if (user.token) await caller.request(xml('iq', { type: 'set', to: domain }, xml('preauth', { xmlns: 'urn:xmpp:pars:0', token: user.token })), TIMEOUT_MS);
    t2 = now();
    await caller.request(xml('iq', { type: 'set', to: domain },
      xml('query', { xmlns: 'jabber:iq:register' }, xml('username', {}, user.username), xml('password', {}, user.password))), TIMEOUT_MS);
    t3 = now();
  } catch (e) {
    await entity.disconnect().catch(() => undefined);
    const err = e as { condition?: string; text?: string; message?: string };
    throw new RegistrationError(err.condition ?? err.message ?? String(e), err.text ?? '');
  }
  await entity.disconnect().catch(() => undefined);
  const t4 = now();
  return { total: t3 - t0, open: t1 - t0, preauth: t2 - t1, register: t3 - t2, close: t4 - t3 };
}

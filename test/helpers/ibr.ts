// An invitee's client before it has an account: xmpp.js's TCP stream, no SASL.
// It presents a token (XEP-0445 preauth) and registers (XEP-0077) on one
// unauthenticated stream, as a real client following XEP-0401 does.
import ConnectionTCP from '@xmpp/connection-tcp';
import iqCaller from '@xmpp/iq/caller.js';
import middleware from '@xmpp/middleware';
import xml, { type Element } from '@xmpp/xml';

class Unauthenticated extends ConnectionTCP {}
Unauthenticated.prototype.NS = 'jabber:client';

export interface Registration {
  /** The stream features the server offered before authentication. */
  features: Element;
  preauth(token: string): Promise<void>;
  register(username: string, password: string): Promise<void>;
  close(): Promise<void>;
}

export async function openRegistration(service: string, domain: string): Promise<Registration> {
  const entity = new Unauthenticated({ service, domain });
  entity.on('error', () => {});
  const caller = iqCaller({ middleware: middleware({ entity }), entity });
  const features = new Promise<Element>((resolve) => entity.on('nonza', (el: Element) => el.is('features', 'http://etherx.jabber.org/streams') && resolve(el)));
  await entity.connect(service);
  await entity.open({ domain });
  return {
    features: await features,
    async preauth(token) {
      await caller.request(xml('iq', { type: 'set', to: domain }, xml('preauth', { xmlns: 'urn:xmpp:pars:0', token })), 10_000);
    },
    async register(username, password) {
      await caller.request(xml('iq', { type: 'set', to: domain },
        xml('query', { xmlns: 'jabber:iq:register' }, xml('username', {}, username), xml('password', {}, password))), 10_000);
    },
    close: () => entity.disconnect().then(() => undefined, () => undefined),
  };
}

/** Preauth (when a token is given) then register, on a fresh connection. Rejects with the server's StanzaError. */
export async function registerWith(service: string, domain: string, user: { token?: string; username: string; password: string }): Promise<void> {
  const r = await openRegistration(service, domain);
  try {
    if (user.token) await r.preauth(user.token);
    await r.register(user.username, user.password);
  } finally {
    await r.close();
  }
}

/** The error's condition and text, for assertions. */
export async function refusal(p: Promise<unknown>): Promise<{ condition: string; text: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { condition?: string; text?: string; message: string };
    return { condition: err.condition ?? err.message, text: err.text ?? '' };
  }
  throw new Error('expected a refusal, but it succeeded');
}

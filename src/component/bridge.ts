// The component's side of the bridge protocol (docs/bridge-protocol.md):
// translates the Prosody bridge's questions into invite-core calls.
import type { IQCallee } from '@xmpp/iq/callee.js';
import { said } from '../invites/policy.js';
import { sortRoles } from '../invites/roles.js';
import type { Refusal, InviteService } from '../invites/service.js';
import type { Invite } from '../invites/types.js';
import { log } from '../log.js';
import type { SenderLimit } from '../rate-limit.js';
import { splitBareJid } from '../xmpp/bare-jid.js';
import { NS_BRIDGE, bridgeElement, bridgeRefusal } from '../xmpp/bridge-protocol.js';
import type { ErrorType } from '../xmpp/errors.js';
import type { Element } from '../xmpp/stanzas.js';

const CONDITION: Record<Refusal['code'], [ErrorType, string]> = {
  unknown: ['cancel', 'item-not-found'],
  expired: ['cancel', 'item-not-found'],
  used: ['cancel', 'item-not-found'],
  revoked: ['cancel', 'item-not-found'],
  'no-reservation': ['cancel', 'item-not-found'],
  'in-use': ['wait', 'resource-constraint'],
  'no-account': ['cancel', 'item-not-found'],
  'wrong-purpose': ['cancel', 'not-allowed'],
  'not-yours': ['cancel', 'not-allowed'],
  'username-mismatch': ['modify', 'not-acceptable'],
  'bad-username': ['modify', 'not-acceptable'],
  'username-taken': ['cancel', 'conflict'],
  'not-admin': ['auth', 'forbidden'],
  'foreign-domain': ['auth', 'forbidden'],
  'contact-invites-disabled': ['auth', 'forbidden'],
  quota: ['wait', 'resource-constraint'],
  'bad-uses': ['modify', 'bad-request'],
  'bad-lifetime': ['modify', 'bad-request'],
  'bad-note': ['modify', 'bad-request'],
  'bad-group': ['modify', 'bad-request'],
  'not-found': ['cancel', 'item-not-found'],
};

export const INVITE_ONLY_TEXT = 'Registration on this server is through invitation only.';

function refuse(r: Refusal): Element {
  const [type, condition] = CONDITION[r.code] ?? ['cancel', 'not-allowed'];
  return bridgeRefusal(type, condition, r.message);
}

const badRequest = (what: string) => bridgeRefusal('modify', 'bad-request', what);

/** Prosody's names of the core's roles (space-separated, the primary one first), or undefined for none. */
export function prosodyRoles(invite: Invite): string | undefined {
  if (invite.kind !== 'account' || invite.roles.length === 0) return undefined;
  return sortRoles(invite.roles).map((r) => `prosody:${r}`).join(' ');
}

/** A bare JID at `domain` (the server's users), lower-cased; undefined otherwise. */
function localJid(value: string | undefined, domain: string): string | undefined {
  const jid = value?.toLowerCase();
  return jid !== undefined && splitBareJid(jid)?.domain === domain ? jid : undefined;
}

const attr = (el: Element, name: string): string | undefined => {
  const v = el.attrs[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
};

/** How many token IQs (XEP-0445 preauth) one address may send, and which addresses are exempt; per stream, PER_STREAM. */
export interface PreauthLimits {
  perAddress: SenderLimit;
  exempt: readonly string[];
}

/** A client sends one token per stream: a few allow for a retry, and guessing gets nowhere. */
const PER_STREAM = { points: 5, ms: 60_000 };

const tooManyTokens = (seconds: number) =>
  bridgeRefusal('wait', 'resource-constraint', `Too many invite attempts from here; wait ${seconds} seconds and try again.`);

/**
 * Token IQs per stream, counted in a plain map: a stream lives for one registration,
 * and a rate-limiter-flexible key (a timer each) cost 15–35 µs on every one, warm.
 */
class StreamCounts {
  private readonly seen = new Map<string, { n: number; until: number }>();
  private nextSweep = 0;

  /** Seconds to wait when this stream has had its share, else undefined (and it is counted). */
  take(stream: string, now = Date.now()): number | undefined {
    // Ended streams are forgotten in one sweep a second at most, not on every token IQ.
    if (this.seen.size > 10_000 && now >= this.nextSweep) {
      this.nextSweep = now + 1000;
      for (const [k, v] of this.seen) if (v.until <= now) this.seen.delete(k);
    }
    let s = this.seen.get(stream);
    if (!s || s.until <= now) this.seen.set(stream, (s = { n: 0, until: now + PER_STREAM.ms }));
    if (s.n >= PER_STREAM.points) return Math.ceil((s.until - now) / 1000);
    s.n++;
    return undefined;
  }
}

/**
 * Answer the bridge on `host` (the server's domain). Only the server itself may
 * ask: any other sender (a user writing to the component) gets `forbidden`.
 */
export function serveBridge(callee: IQCallee<any>, service: InviteService, host: string, limits?: PreauthLimits): void {
  const streams = new StreamCounts();
  const limited = (ip?: string): ip is string => !!limits && !!ip && !limits.exempt.includes(ip);
  /**
   * The stream's and the address's turn for a token IQ: a refusal when either has had too
   * many. The address's point is taken before the lookup (so parallel streams cannot all
   * slip in under the limit) and given back for a valid token: invitees behind one address
   * (a carrier's NAT) never use up what a guesser there leaves them.
   */
  const turn = async (stream?: string, ip?: string): Promise<Element | undefined> => {
    if (!limits) return undefined;
    const wait = stream ? streams.take(stream) : undefined;
    if (wait !== undefined) return tooManyTokens(wait);
    if (!limited(ip)) return undefined;
    const a = await limits.perAddress.take(ip);
    if (a.ok) return undefined;
    if (a.firstRefusal) log.warn(`bridge: too many invite tokens tried from ${ip}; refusing for ${a.seconds} s`);
    return tooManyTokens(a.seconds);
  };
  const refund = async (ip?: string) => { if (limited(ip)) await limits!.perAddress.refund(ip); };

  const from = (handler: (el: Element) => Element | Promise<Element>) =>
    async (ctx: { stanza: Element; element?: Element }) => {
      if (String(ctx.stanza.attrs.from ?? '').toLowerCase() !== host) {
        return bridgeRefusal('auth', 'forbidden', 'Only the server may use the bridge protocol.');
      }
      return handler(ctx.element!);
    };

  // XEP-0445 preauth: may this token be used to register?
  callee.get(NS_BRIDGE, 'token', from(async (el) => {
    const token = attr(el, 'token');
    if (!token) return badRequest('The token attribute is required.');
    const ip = attr(el, 'ip');
    const wait = await turn(attr(el, 'stream'), ip);
    if (wait) return wait;
    const found = await service.lookupToUse(token, 'register');
    if (found.state !== 'valid') return refuse(service.refusalFor(found.state, found.invite));
    // item-not-found, as for any token that cannot make an account (XEP-0445): the Conversations
    // family reads any other error as "no token needed" and registers without it.
    if (found.invite.kind === 'contact') return bridgeRefusal('cancel', 'item-not-found', said('refusal.notForAccounts').message);
    await refund(ip);
    return bridgeElement('token', { kind: found.invite.kind, username: found.invite.username });
  }));

  // user-registering: reserve one use for this username (or allow token-less when open).
  callee.set(NS_BRIDGE, 'register', from(async (el) => {
    const username = attr(el, 'username');
    if (!username) return badRequest('The username attribute is required.');
    const token = attr(el, 'token');
    if (!token) {
      return service.registrationInviteOnly ? bridgeRefusal('modify', 'not-acceptable', INVITE_ONLY_TEXT) : bridgeElement('register');
    }
    const exists = attr(el, 'exists');
    // Resolves once the hold is on disk, before the server makes the account.
    const r = await service.reserve(token, { purpose: 'register', username, accountExists: exists === undefined ? undefined : exists === 'true' });
    if (!r.ok) return refuse(r);
    // The bridge gives the account its roles as it is made, before the client can log in.
    return bridgeElement('register', {
      reservation: r.reservation, reset: r.invite.kind === 'reset' ? 'true' : undefined, roles: prosodyRoles(r.invite),
    });
  }));

  callee.set(NS_BRIDGE, 'commit', from(async (el) => {
    const reservation = attr(el, 'reservation');
    const jid = localJid(attr(el, 'jid'), host);
    if (!reservation || !jid) return badRequest('reservation and a local bare jid are required.');
    // A commit comes after user-registered, where the bridge has given the roles.
    const r = await service.commit(reservation, jid, attr(el, 'token'), { rolesApplied: true });
    return r.ok ? bridgeElement('commit') : refuse(r);
  }));

  callee.set(NS_BRIDGE, 'release', from(async (el) => {
    const reservation = attr(el, 'reservation');
    if (!reservation) return badRequest('The reservation attribute is required.');
    await service.release(reservation);
    return bridgeElement('release');
  }));

  // XEP-0379: approve `contact`'s subscription to `user` with the token, using it at once.
  callee.set(NS_BRIDGE, 'subscription', from(async (el) => {
    const token = attr(el, 'token');
    const user = localJid(attr(el, 'user'), host);
    const contact = attr(el, 'contact')?.toLowerCase();
    if (!token || !user || !contact || !splitBareJid(contact)) {
      return badRequest('token, a local user and a bare contact jid are required.');
    }
    const r = await service.reserve(token, { purpose: 'roster', user, contact });
    if (!r.ok) return refuse(r);
    const done = await service.commit(r.reservation, contact);
    if (!done.ok) return refuse(done);
    log.info(`invite ${r.invite.id}: ${contact} subscribed to ${user}`);
    return bridgeElement('subscription');
  }));
}

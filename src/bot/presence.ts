// The bot as a contact: how it answers presence subscriptions (RFC 6121 §3).
// Accounts that may use it (the server's own, and ADMINS) get `subscribed` and
// a `subscribe` back, so both ends become `both`: the bot's presence reaches
// them, and clients that look for commands at a contact's online resource find
// its ad-hoc commands. Everyone else gets `unsubscribed`.
//
// No loops: Prosody hands the bot a `subscribe` only while the asker is not yet
// subscribed and has no request pending (mod_presence, handle_inbound_...), and
// an `unsubscribe`/`unsubscribed` only when it changed the roster; on top of
// that, one answer per address and kind per minute (a bounded table), and at
// most `perWindow` answers in all per window, so a flood from many addresses
// costs a counter, never memory per sender.
import { isLocal } from '../invites/policy.js';
import { type Element, subscription } from '../xmpp/stanzas.js';

export interface ContactPolicy {
  /** The server's domain: its accounts may use the bot. */
  domain: string;
  /** Bare JIDs, lower case, of ADMINS (they may be of other domains). */
  admins: readonly string[];
}

/** May this bare JID (lower case) have the bot as a contact? The same accounts that may create invites. */
export function mayBeContact(bare: string, p: ContactPolicy): boolean {
  return isLocal(bare, p.domain) || p.admins.includes(bare);
}

export type PresenceDecision =
  | { kind: 'accept'; to: string; send: Element[] }
  | { kind: 'refuse'; to: string; send: Element[] }
  | { kind: 'ended'; to: string; send: Element[] };

/**
 * What to send for an inbound presence stanza, or undefined when it asks for nothing
 * (available/unavailable presence, `subscribed`, probes, errors, our own account).
 */
export function decidePresence(stanza: Element, self: string, p: ContactPolicy, nick: string): PresenceDecision | undefined {
  if (!stanza.is('presence')) return undefined;
  const type = stanza.attrs.type;
  const from = String(stanza.attrs.from ?? '');
  const to = from.split('/')[0]!;
  const bare = to.toLowerCase();
  if (!to || bare === self.toLowerCase()) return undefined;
  switch (type) {
    case 'subscribe':
      return mayBeContact(bare, p)
        ? { kind: 'accept', to, send: [subscription(to, 'subscribed'), subscription(to, 'subscribe', nick)] }
        : { kind: 'refuse', to, send: [subscription(to, 'unsubscribed')] };
    // They no longer take the bot's presence: the bot no longer takes theirs either.
    case 'unsubscribe':
    // They declined or ended the bot's subscription: acknowledged (RFC 3921 §8.2) with an
    // `unsubscribe`, which leaves their own subscription to the bot (and its presence) alone.
    case 'unsubscribed':
      return { kind: 'ended', to, send: [subscription(to, 'unsubscribe')] };
    default:
      return undefined;
  }
}

export interface AnswerLimits {
  /** Answers in all per window (default 100 per 10 s). */
  perWindow?: number;
  windowMs?: number;
  /** Addresses remembered so as not to answer the same kind twice within `repeatMs` (default 1,000). */
  remember?: number;
  repeatMs?: number;
}

/** Rate and repeat limits on presence answers, in bounded memory. */
export class PresenceAnswers {
  private readonly perWindow: number;
  private readonly windowMs: number;
  private readonly remember: number;
  private readonly repeatMs: number;
  private windowStart = 0;
  /** Answers sent in the current window: approvals and the rest counted apart, so a flood of strangers' requests never delays an account of the server. */
  private readonly inWindow = { accept: 0, other: 0 };
  /** Answers left out in the current window (told once when it ends). */
  dropped = 0;
  /** `kind address` → when answered; at most `remember` entries, the oldest given up first. */
  private readonly recent = new Map<string, number>();

  constructor(limits: AnswerLimits = {}, private readonly now: () => number = Date.now) {
    this.perWindow = limits.perWindow ?? 100;
    this.windowMs = limits.windowMs ?? 10_000;
    this.remember = limits.remember ?? 1_000;
    this.repeatMs = limits.repeatMs ?? 60_000;
  }

  /**
   * Whether to send this answer now. 'repeat': the same answer went to the same address
   * within repeatMs; 'limit': too many answers in this window. `droppedBefore` is the
   * number left out in the window that just ended, to be logged once.
   */
  admit(d: PresenceDecision): { ok: true; droppedBefore: number } | { ok: false; why: 'repeat' | 'limit'; droppedBefore: number } {
    const t = this.now();
    let droppedBefore = 0;
    if (t - this.windowStart >= this.windowMs) {
      droppedBefore = this.dropped;
      this.windowStart = t;
      this.inWindow.accept = 0;
      this.inWindow.other = 0;
      this.dropped = 0;
    }
    const key = `${d.kind} ${d.to.toLowerCase()}`;
    // An accepted request is never repeated by the server (see above); a refusal or an
    // acknowledgement could be, by a peer that answers in kind on a server that passes everything on.
    const seen = d.kind === 'accept' ? undefined : this.recent.get(key);
    if (seen !== undefined && t - seen < this.repeatMs) return { ok: false, why: 'repeat', droppedBefore };
    const budget = d.kind === 'accept' ? 'accept' : 'other';
    if (this.inWindow[budget] >= this.perWindow) {
      this.dropped++;
      return { ok: false, why: 'limit', droppedBefore };
    }
    this.inWindow[budget]++;
    if (d.kind === 'accept') return { ok: true, droppedBefore };
    this.recent.delete(key);
    this.recent.set(key, t);
    while (this.recent.size > this.remember) this.recent.delete(this.recent.keys().next().value!);
    return { ok: true, droppedBefore };
  }

  /** Entries held (for tests: never above `remember`). */
  get size(): number {
    return this.recent.size;
  }
}

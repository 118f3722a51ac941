// The invite core: the only place that decides who may create, use or revoke
// an invite. Bot, component, web and CLI translate their protocol to these calls.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { addSeconds, subSeconds } from 'date-fns';
import type { InviteStore } from '../store/invite-store.js';
import { type Decision, type PolicySettings, type RefusalCode, type Subject, contactKindFor, mayCreate } from './policy.js';
import { hashToken, looksLikeToken, newId, newToken } from './tokens.js';
import type { Actor, Invite, InviteKind, InviteState, Role } from './types.js';
import { inviteUri } from './uri.js';
import { normalizeUsername } from './username.js';

export interface InviteSettings extends PolicySettings {
  /** Seconds an invite stays valid. */
  inviteExpiry: number;
  resetExpiry: number;
  /** Admins named by configuration (bare JIDs). */
  admins: readonly string[];
  /** Base of the web landing pages (no trailing slash), when the web side is public. */
  publicUrl?: string;
  /** Token-less in-band registration is refused. */
  registrationInviteOnly?: boolean;
}

export type CreateRequest =
  | { kind: 'account'; username?: string; roles?: Role[]; maxUses?: number }
  | { kind: 'contact' | 'account-contact' }
  | { kind: 'reset'; username: string };

export interface CreatedInvite {
  invite: Invite;
  /** The secret: shown to the creator once, never stored. */
  token: string;
  uri: string;
  /** The web page of the invite, when PUBLIC_URL is set. */
  landingUrl?: string;
}

export type Refusal = {
  ok: false;
  code: RefusalCode | Exclude<InviteState, 'valid'> | 'wrong-purpose' | 'username-mismatch' | 'username-taken' | 'no-account' | 'not-yours' | 'no-reservation' | 'in-use';
  message: string;
};
export type Result<T> = ({ ok: true } & T) | Refusal;
/** A valid lookup always has its invite; the others may not (unknown). */
export type Lookup = { state: 'valid'; invite: Invite } | { state: Exclude<InviteState, 'valid'>; invite?: Invite };

const fail = (code: Refusal['code'], message: string): Refusal => ({ ok: false, code, message });

/** What the token is being used for: a new account (or reset), or a roster subscription. */
export type Purpose = 'register' | 'roster';

/** One use of a token, as the front end (bridge, web) sees it. */
export type Use =
  /** `accountExists`: whether the server already has that account (undefined: not known; the server will refuse a duplicate). */
  | { purpose: 'register'; username: string; accountExists?: boolean }
  /** A subscription request from someone to `user` (bare JID), carrying the token. */
  | { purpose: 'roster'; user: string };

/** Emitted as 'used' once a use is committed: front ends do the follow-ups (contacts, notices). */
export interface UsedEvent {
  invite: Invite;
  /** Bare JID of the new account, the reset account, or the new contact. */
  usedBy: string;
  purpose: Purpose;
}

const REGISTER_KINDS: ReadonlySet<InviteKind> = new Set(['account', 'account-contact', 'reset']);
const ROSTER_KINDS: ReadonlySet<InviteKind> = new Set(['contact', 'account-contact']);
export const MAX_USES_LIMIT = 1000;
/** A reservation not committed or released by then is released: a lost caller cannot pin a token. */
const RESERVATION_TTL_MS = 5 * 60_000;

const STATE_MESSAGE: Record<Exclude<InviteState, 'valid'>, string> = {
  unknown: 'This invite is not valid.',
  expired: 'This invite has expired.',
  used: 'This invite has already been used.',
  revoked: 'This invite has been revoked.',
};
const NOT_REVOCABLE: Record<Exclude<InviteState, 'valid' | 'unknown'>, string> = {
  expired: 'it has expired',
  used: 'it has already been used',
  revoked: 'it was already revoked',
};

interface Reservation {
  invite: Invite;
  purpose: Purpose;
  timer: NodeJS.Timeout;
}

export class InviteService extends EventEmitter<{ used: [UsedEvent] }> {
  private readonly reservations = new Map<string, Reservation>();
  /** Reservations in flight per invite id: counted against maxUses. */
  private readonly reserved = new Map<string, number>();

  constructor(
    private readonly store: InviteStore,
    readonly settings: InviteSettings,
    private readonly now: () => Date = () => new Date(),
  ) {
    super();
  }

  get domain(): string {
    return this.settings.domain;
  }

  /** Is there an administrator at all (configured, or made by an admin invite)? */
  hasAdmins(): boolean {
    return this.settings.admins.length > 0 || this.store.anyoneWithRole('admin');
  }

  isAdmin(jid: string): boolean {
    return this.settings.admins.includes(jid) || this.store.roles(jid).includes('admin');
  }

  stateOf(inv: Invite): InviteState {
    if (inv.revokedAt) return 'revoked';
    if (inv.uses.length >= inv.maxUses) return 'used';
    if (this.now() >= new Date(inv.expiresAt)) return 'expired';
    return 'valid';
  }

  private subject(actor: Actor): Subject {
    if ('system' in actor) return { jid: null, admin: true, pending: 0 };
    const admin = this.isAdmin(actor.jid);
    // Only non-admins have a quota; skip the scan for admins.
    const pending = admin ? 0 : this.store.createdBy(actor.jid).filter((i) => this.stateOf(i) === 'valid').length;
    return { jid: actor.jid, admin, pending };
  }

  private creator(actor: Actor): string {
    return 'system' in actor ? actor.system : actor.jid;
  }

  /** The kind a plain "invite" gives this actor: account+contact when they may invite new users. */
  defaultContactKind(actor: Actor): 'contact' | 'account-contact' {
    return contactKindFor(this.subject(actor), this.settings);
  }

  /** May this actor create this kind? (For offering commands; create() checks again.) */
  mayCreate(actor: Actor, kind: InviteKind): Decision {
    return mayCreate(kind, this.subject(actor), this.settings);
  }

  async create(actor: Actor, req: CreateRequest): Promise<Result<CreatedInvite>> {
    const decision = this.mayCreate(actor, req.kind);
    if (!decision.ok) return decision;

    let username: string | undefined;
    if (req.kind === 'account' || req.kind === 'reset') {
      if (req.username !== undefined) {
        const u = normalizeUsername(req.username);
        if (!u) return fail('bad-username', `"${printable(req.username)}" is not a valid username.`);
        username = u;
      }
    }
    const maxUses = req.kind === 'account' ? req.maxUses ?? 1 : 1;
    if (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > MAX_USES_LIMIT) {
      return fail('bad-uses', `The number of uses must be a whole number from 1 to ${MAX_USES_LIMIT}.`);
    }
    if (username && maxUses > 1) return fail('bad-uses', 'An invite bound to one username can only be used once.');

    const now = this.now();
    const token = newToken();
    let id = newId();
    while (this.store.get(id)) id = newId();
    const ttl = req.kind === 'reset' ? this.settings.resetExpiry : this.settings.inviteExpiry;
    const invite: Invite = {
      id,
      tokenHash: hashToken(token),
      kind: req.kind,
      createdBy: this.creator(actor),
      ...(req.kind === 'contact' || req.kind === 'account-contact' ? { inviter: this.creator(actor) } : {}),
      ...(username ? { username } : {}),
      roles: req.kind === 'account' ? [...new Set(req.roles ?? [])] : [],
      maxUses,
      uses: [],
      createdAt: now.toISOString(),
      expiresAt: addSeconds(now, ttl).toISOString(),
    };
    // The creator is shown the token only once it is on disk, so it survives a crash.
    await this.store.add(invite);
    const landingUrl = this.landingUrl(token);
    return { ok: true, invite, token, uri: this.uri(invite, token), ...(landingUrl ? { landingUrl } : {}) };
  }

  uri(invite: Invite, token: string): string {
    return inviteUri(invite, token, this.domain);
  }

  landingUrl(token: string): string | undefined {
    return this.settings.publicUrl && `${this.settings.publicUrl}/invite/${token}`;
  }

  /** May someone register without a token? (Asked by the bridge; policy stays here.) */
  get registrationInviteOnly(): boolean {
    return this.settings.registrationInviteOnly ?? true;
  }

  /** Find the invite a token names, and whether it can be used now. */
  lookup(token: string): Lookup {
    const invite = looksLikeToken(token) ? this.store.findByHash(hashToken(token)) : undefined;
    if (!invite) return { state: 'unknown' };
    return { state: this.stateOf(invite), invite } as Lookup;
  }

  /** Why a token in this state cannot be used, in words for the person holding it. */
  refusalFor(state: Exclude<InviteState, 'valid'>): Refusal {
    return fail(state, STATE_MESSAGE[state]);
  }

  private inFlight(inv: Invite): number {
    return this.reserved.get(inv.id) ?? 0;
  }

  /**
   * Hold one use of the invite for a registration or subscription in progress.
   * Synchronous, so concurrent callers are decided one at a time: a single-use
   * token is reserved by at most one of them.
   */
  reserve(token: string, use: Use): Result<{ reservation: string; invite: Invite }> {
    const found = this.lookup(token);
    if (found.state !== 'valid') return this.refusalFor(found.state);
    const { invite } = found;
    const refusal = use.purpose === 'register' ? this.refuseRegister(invite, use) : this.refuseRoster(invite, use);
    if (refusal) return refusal;
    if (invite.uses.length + this.inFlight(invite) >= invite.maxUses) {
      // Someone is registering with it right now: refusing keeps one use one account.
      return fail('in-use', 'This invite is being used right now; if that was not you, try again in a few minutes.');
    }
    const id = randomUUID();
    const timer = setTimeout(() => this.release(id), RESERVATION_TTL_MS).unref();
    this.reservations.set(id, { invite, purpose: use.purpose, timer });
    this.reserved.set(invite.id, this.inFlight(invite) + 1);
    return { ok: true, reservation: id, invite };
  }

  private refuseRegister(invite: Invite, use: Extract<Use, { purpose: 'register' }>): Refusal | undefined {
    if (!REGISTER_KINDS.has(invite.kind)) return fail('wrong-purpose', 'This invite does not allow creating an account.');
    const user = normalizeUsername(use.username);
    if (!user) return fail('bad-username', `"${printable(use.username)}" is not a valid username.`);
    if (invite.username && user !== invite.username) {
      return fail('username-mismatch', `This invite is for the username "${invite.username}" only.`);
    }
    // A reset must never create an account, and an account invite never takes over one.
    if (invite.kind === 'reset' && use.accountExists === false) return fail('no-account', `There is no account "${user}" to reset.`);
    if (invite.kind !== 'reset' && use.accountExists) return fail('username-taken', `The username "${user}" is already taken.`);
    return undefined;
  }

  private refuseRoster(invite: Invite, use: Extract<Use, { purpose: 'roster' }>): Refusal | undefined {
    if (!ROSTER_KINDS.has(invite.kind)) return fail('wrong-purpose', 'This invite is not a contact invite.');
    if (invite.inviter !== use.user.toLowerCase()) return fail('not-yours', 'This invite belongs to someone else.');
    return undefined;
  }

  private take(reservation: string): Reservation | undefined {
    const r = this.reservations.get(reservation);
    if (!r) return undefined;
    clearTimeout(r.timer);
    this.reservations.delete(reservation);
    const n = this.inFlight(r.invite) - 1;
    if (n > 0) this.reserved.set(r.invite.id, n);
    else this.reserved.delete(r.invite.id);
    return r;
  }

  /** The registration or subscription failed: give the use back. */
  release(reservation: string): boolean {
    return this.take(reservation) !== undefined;
  }

  /**
   * The account exists (or the subscription is done): record the use durably,
   * grant roles. `token` covers a reservation this process lost (restart, 5-minute
   * expiry) while the server still made the account: the use is recorded anyway,
   * past any limit, so that account never leaves its token reusable.
   */
  async commit(reservation: string, usedBy: string, token?: string): Promise<Result<{ invite: Invite }>> {
    const r = this.take(reservation) ?? this.lateReservation(token);
    if (!r) return fail('no-reservation', 'This invite reservation has expired; start again.');
    r.invite.uses.push({ jid: usedBy, at: this.now().toISOString() });
    const writes = [this.store.update(r.invite)];
    const grant = r.invite.roles.length > 0 && r.invite.kind === 'account' && !r.invite.revokedAt;
    if (grant) writes.push(this.store.grantRoles(usedBy, r.invite.roles));
    await Promise.all(writes);
    this.emit('used', { invite: r.invite, usedBy, purpose: r.purpose });
    return { ok: true, invite: r.invite };
  }

  private lateReservation(token: string | undefined): Pick<Reservation, 'invite' | 'purpose'> | undefined {
    const invite = token && looksLikeToken(token) ? this.store.findByHash(hashToken(token)) : undefined;
    return invite && REGISTER_KINDS.has(invite.kind) ? { invite, purpose: 'register' } : undefined;
  }

  async revoke(actor: Actor, id: string): Promise<Result<{ invite: Invite }>> {
    const invite = this.store.get(id.trim().toLowerCase());
    const subject = this.subject(actor);
    // Non-admins learn nothing about invites that are not theirs.
    if (!invite || (!subject.admin && invite.createdBy !== subject.jid)) {
      return fail('not-found', `You have no invite with the id "${printable(id)}".`);
    }
    const state = this.stateOf(invite);
    if (state !== 'valid' && state !== 'unknown') return fail('not-found', `Invite ${invite.id} cannot be revoked: ${NOT_REVOCABLE[state]}.`);
    invite.revokedAt = this.now().toISOString();
    await this.store.update(invite);
    return { ok: true, invite };
  }

  /** Invites that can still be used: the actor's own, or everyone's for admins with `all`. */
  listPending(actor: Actor, opts: { all?: boolean } = {}): Result<{ invites: Invite[] }> {
    const subject = this.subject(actor);
    if (opts.all && !subject.admin) return fail('not-admin', 'Only administrators can list all invites.');
    const candidates = opts.all ? this.store.all() : this.store.createdBy(this.creator(actor));
    const invites = candidates.filter((i) => this.stateOf(i) === 'valid');
    return { ok: true, invites };
  }

  /** When an invite stopped being usable, or undefined while it still is. */
  endedAt(inv: Invite): Date | undefined {
    switch (this.stateOf(inv)) {
      case 'valid': return undefined;
      case 'revoked': return new Date(inv.revokedAt!);
      case 'used': return new Date(inv.uses.at(-1)!.at);
      default: return new Date(inv.expiresAt);
    }
  }

  /** Archive invites that ended more than `graceSeconds` ago (see InviteStore.archive). */
  prune(graceSeconds: number): Promise<number> {
    const cutoff = subSeconds(this.now(), graceSeconds);
    return this.store.archive((inv) => {
      const ended = this.endedAt(inv);
      return ended !== undefined && ended < cutoff && this.inFlight(inv) === 0;
    });
  }

  /** Forget all reservations (shutdown): nothing was committed for them. */
  close(): void {
    for (const id of [...this.reservations.keys()]) this.release(id);
  }
}

/** Echo user input safely in a sentence: short, one line, no control characters. */
export function printable(s: string, max = 40): string {
  // By code points, so a cut never splits a surrogate pair (an emoji) in two.
  const chars = [...s.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ').trim()];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : chars.join('');
}

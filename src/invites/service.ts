// The invite core: the only place that decides who may create, use or revoke
// an invite. Bot, component, web and CLI translate their protocol to these calls.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Changed, InviteStore } from '../store/store.js';
import { type Decision, type PolicySettings, type RefusalCode, type Said, type Subject, contactKindFor, said, isLocal, mayCreate } from './policy.js';
import { sortRoles } from './roles.js';
import { hashToken, looksLikeToken, newId, newToken } from './tokens.js';
import type { Actor, Invite, InviteKind, InviteState, InviteUse, Role } from './types.js';
import { inviteUri } from './uri.js';
import { isValidUsername, unpreppedUsername } from './username.js';
import { type Lifetime, MAX_LIFETIME_SECONDS } from './lifetime.js';
import { NEVER } from './types.js';

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

/** What any invite may carry, with the same names in every front end (--expires-after, --note, --group). */
export interface InviteOptions {
  /** Seconds, or 'never' (admins only). Default INVITE_EXPIRY (RESET_EXPIRY for a reset); a non-admin's is at most INVITE_EXPIRY. */
  expiresAfter?: Lifetime;
  /** Shown in lists, never to the invitee. */
  note?: string;
  /** Groups the new account joins (admins; account kinds). */
  groups?: string[];
}

export type CreateRequest =
  | ({ kind: 'account'; username?: string; roles?: Role[]; maxUses?: number } & InviteOptions)
  | ({ kind: 'contact' | 'account-contact' } & InviteOptions)
  | ({ kind: 'reset'; username: string } & InviteOptions);

/** A note's length at most, in characters. */
export const MAX_NOTE = 200;

export interface CreatedInvite {
  invite: Invite;
  /** The secret: shown to the creator once, never stored. */
  token: string;
  uri: string;
  /** The web page of the invite, when PUBLIC_URL is set. */
  landingUrl?: string;
  /** The lifetime asked for was longer than a non-admin may give: it is INVITE_EXPIRY. */
  capped?: boolean;
}

export type Refusal = {
  ok: false;
  code: RefusalCode | Exclude<InviteState, 'valid'> | 'bad-lifetime' | 'bad-note' | 'bad-group' | 'wrong-purpose' | 'username-mismatch' | 'username-taken' | 'no-account' | 'not-yours' | 'no-reservation' | 'in-use';
} & Said;
export type Result<T> = ({ ok: true } & T) | Refusal;
/** A valid lookup always has its invite; the others may not (unknown). */
export type Lookup = { state: 'valid'; invite: Invite } | { state: Exclude<InviteState, 'valid'>; invite?: Invite };

const fail = (code: Refusal['code'], key: string, vars?: Record<string, string | number>): Refusal => ({ ok: false, code, ...said(key, vars) });

/** What the token is being used for: a new account (or reset), or a roster subscription. */
export type Purpose = 'register' | 'roster';

/** One use of a token, as the front end (bridge, web) sees it. */
export type Use =
  /** `accountExists`: whether the server already has that account (undefined: not known; the server will refuse a duplicate). */
  | { purpose: 'register'; username: string; accountExists?: boolean }
  /** A subscription request from `contact` to `user` (bare JIDs), carrying the token. */
  | { purpose: 'roster'; user: string; contact: string };

/** Emitted as 'used' once a use is committed: front ends do the follow-ups (contacts, notices). */
export interface UsedEvent {
  invite: Invite;
  /** Bare JID of the new account, the reset account, or the new contact. */
  usedBy: string;
  purpose: Purpose;
  /** The server already gave the new account the invite's roles (the bridge does at registration). */
  rolesApplied: boolean;
}

const REGISTER_KINDS: ReadonlySet<InviteKind> = new Set(['account', 'account-contact', 'reset']);
const ROSTER_KINDS: ReadonlySet<InviteKind> = new Set(['contact', 'account-contact']);
export const MAX_USES_LIMIT = 1000;
/** A reservation neither committed nor released by then is resolved by asking whether the account exists. */
const RESERVATION_TTL_MS = 5 * 60_000;


interface Reservation {
  inviteId: string;
  /** The invite as held (its kind and roles do not change): spares a read at commit. */
  invite: Invite;
  /** The pending use's `ref`. */
  ref: string;
  jid: string;
  purpose: Purpose;
  timer: NodeJS.Timeout;
}

/** A pending use, found by its reservation's ref, or (written by earlier versions, without one) by its account. */
type UseKey = { ref: string } | { jid: string };

function findUse(inv: Invite, key: UseKey): InviteUse | undefined {
  return 'ref' in key ? inv.uses.find((u) => u.ref === key.ref) : inv.uses.find((u) => u.pending && u.jid === key.jid);
}

/** This instance among several on one database: its id, and whether another one still runs. */
export interface InstanceInfo {
  id: string;
  alive(id: string): Promise<boolean>;
}

/** What the server says of an account; undefined: it cannot be asked now (ask again later). */
export interface ServerAccounts {
  account(jid: string): Promise<{ exists: boolean; admin: boolean } | undefined>;
  /** The username as the server itself normalises it (nodeprep); null: not a valid username there. */
  nodeprep?(username: string): Promise<string | null | undefined>;
}

const DAY_MS = 86_400_000;
/** Invites per page of a list, unless asked otherwise, and at most. */
export const DEFAULT_PAGE = 20;
const MAX_PAGE = 1000;

/** How long the server's word that someone is (or is not) an admin is believed. */
const SERVER_ADMIN_TTL_MS = 60_000;

/** Emitted as 'refused' when a token could not be used (for metrics and logs; the front end tells the person). */
export interface RefusedEvent {
  code: Refusal['code'];
  purpose: Purpose;
}

/** The events front ends and metrics listen to. */
export interface ServiceEvents {
  created: [{ invite: Invite }];
  used: [UsedEvent];
  refused: [RefusedEvent];
}

export class InviteService extends EventEmitter<ServiceEvents> {
  private readonly reservations = new Map<string, Reservation>();
  /** Invites being written, per creator: not in the store yet, but counted by the quotas. */
  private readonly creating = new Map<string, number>();
  /** Set by the app when the server can be asked (through the bridge). */
  server?: ServerAccounts;
  /** Set by the app: resolves the groups an invite names (absent: invites cannot carry groups). */
  groups?: { resolve(names: readonly string[]): Promise<{ ok: true; names: string[] } | ({ ok: false } & Said)> };
  /** Set by the app on a shared store: holds are marked with it, and another's hold is settled once it is dead. */
  instance?: InstanceInfo;
  /** Accounts the server reported as its admins, or not, and when it was asked. */
  private readonly serverAdmins = new Map<string, { admin: boolean; at: number; asking?: Promise<void> }>();

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

  /** ADMINS, accounts made by an admin invite, and accounts the server reports as its admins (see refreshAdmin). */
  isAdmin(jid: string): boolean {
    return this.settings.admins.includes(jid) || this.store.roles(jid).includes('admin')
      || this.serverAdmins.get(jid)?.admin === true;
  }

  /**
   * Ask the server whether `jid` is one of its admins, unless it was asked within a
   * minute; front ends call this before deciding on a request, so isAdmin() stays a
   * plain lookup. No answer keeps what was known.
   */
  async refreshAdmin(jid: string): Promise<void> {
    const server = this.server;
    if (!server || !isLocal(jid, this.domain) || this.settings.admins.includes(jid)) return;
    const known = this.serverAdmins.get(jid);
    if (known?.asking) return known.asking;
    if (known && Date.now() - known.at < SERVER_ADMIN_TTL_MS) return;
    const before = { admin: known?.admin ?? false, at: known?.at ?? 0 };
    const asking = server.account(jid).catch(() => undefined).then((a) => {
      this.serverAdmins.set(jid, a ? { admin: a.exists && a.admin, at: Date.now() } : before);
    });
    this.serverAdmins.set(jid, { ...before, asking });
    return asking;
  }

  stateOf(inv: Invite): InviteState {
    if (inv.revokedAt) return 'revoked';
    // A pending use is not a use yet (the account may never exist); reserve() counts it.
    if (inv.uses.length - this.inFlight(inv) >= inv.maxUses) return 'used';
    if (this.now() >= new Date(inv.expiresAt)) return 'expired';
    return 'valid';
  }

  private async subject(actor: Actor): Promise<Subject> {
    if ('system' in actor) return { jid: null, admin: true, pending: 0 };
    const admin = this.isAdmin(actor.jid);
    // Only non-admins have a quota; skip the scan for admins.
    if (admin) return { jid: actor.jid, admin, pending: 0 };
    const mine = await this.store.createdBy(actor.jid);
    const inFlight = this.creating.get(actor.jid) ?? 0;
    // Ended invites stay in the live store for a day after they end (prune()), so every one made in the last 24 hours is here.
    const since = this.now().getTime() - DAY_MS;
    return {
      jid: actor.jid, admin,
      pending: mine.filter((i) => this.stateOf(i) === 'valid').length + inFlight,
      createdToday: mine.filter((i) => Date.parse(i.createdAt) > since).length + inFlight,
    };
  }

  private creator(actor: Actor): string {
    return creatorName(actor);
  }

  /** The kind a plain "invite" gives this actor: account+contact when they may invite new users. */
  async defaultContactKind(actor: Actor): Promise<'contact' | 'account-contact'> {
    return contactKindFor(await this.subject(actor), this.settings);
  }

  /** May this actor create this kind? (For offering commands; create() checks again.) */
  async mayCreate(actor: Actor, kind: InviteKind): Promise<Decision> {
    return mayCreate(kind, await this.subject(actor), this.settings);
  }

  async create(actor: Actor, req: CreateRequest): Promise<Result<CreatedInvite>> {
    const decision = await this.mayCreate(actor, req.kind);
    if (!decision.ok) return decision;

    let username: string | undefined;
    if (req.kind === 'account' || req.kind === 'reset') {
      if (req.username !== undefined) {
        const u = await this.prepUsername(req.username);
        if (!u) return fail('bad-username', 'refusal.badUsername', { username: printable(req.username) });
        username = u;
      }
    }
    const asked = (req as { maxUses?: number }).maxUses;
    if (asked !== undefined && asked !== 1 && req.kind !== 'account') return fail('bad-uses', 'refusal.usesAccountOnly');
    const maxUses = req.kind === 'account' ? req.maxUses ?? 1 : 1;
    if (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > MAX_USES_LIMIT) {
      return fail('bad-uses', 'refusal.badUses', { max: MAX_USES_LIMIT });
    }
    const subject = await this.subject(actor);
    const options = await this.checkOptions(req, subject.admin);
    if (!options.ok) return options;
    if (username && maxUses > 1) return fail('bad-uses', 'refusal.boundOnce');
    // No dead ends: where the server can be asked, a bound name must be free and a reset's account must exist.
    const dead = await this.deadEnd(req.kind, username);
    const jid = `${username}@${this.domain}`;
    if (dead === 'username-taken') return fail('username-taken', 'refusal.accountExists', { jid, username: username! });
    if (dead === 'no-account') return fail('no-account', 'refusal.noAccountToReset', { jid });

    const now = this.now();
    const token = newToken();
    let id = newId();
    while (await this.store.get(id)) id = newId();
    const ttl = options.ttl ?? (req.kind === 'reset' ? this.settings.resetExpiry : this.settings.inviteExpiry);
    const invite: Invite = {
      id,
      tokenHash: hashToken(token),
      kind: req.kind,
      createdBy: this.creator(actor),
      ...(req.kind === 'contact' || req.kind === 'account-contact' ? { inviter: this.creator(actor) } : {}),
      ...(username ? { username } : {}),
      roles: req.kind === 'account' ? sortRoles(req.roles ?? []) : [],
      maxUses,
      uses: [],
      ...(options.note ? { note: options.note } : {}),
      ...(options.groups.length ? { groups: options.groups } : {}),
      createdAt: now.toISOString(),
      expiresAt: ttl === 'never' ? NEVER : new Date(now.getTime() + ttl * 1000).toISOString(),
    };
    // The creator is shown the token only once it is on disk, so it survives a crash.
    // Until then it is not in the store: counted here, so concurrent creations keep to the quotas.
    this.creating.set(invite.createdBy, (this.creating.get(invite.createdBy) ?? 0) + 1);
    try {
      await this.store.add(invite);
    } finally {
      const n = this.creating.get(invite.createdBy)! - 1;
      if (n > 0) this.creating.set(invite.createdBy, n);
      else this.creating.delete(invite.createdBy);
    }
    this.emit('created', { invite });
    const landingUrl = this.landingUrl(token);
    return { ok: true, invite, token, uri: this.uri(invite, token), ...(landingUrl ? { landingUrl } : {}), ...(options.capped ? { capped: true } : {}) };
  }

  /** The per-invite options checked: who may give which, and each value's shape. */
  private async checkOptions(req: CreateRequest, admin: boolean): Promise<Refusal | { ok: true; ttl?: Lifetime; capped: boolean; note?: string; groups: string[] }> {
    let ttl = req.expiresAfter;
    let capped = false;
    if (ttl !== undefined) {
      if (ttl === 'never') {
        if (!admin) return fail('bad-lifetime', 'refusal.neverAdmin');
      } else if (!Number.isInteger(ttl) || ttl <= 0 || ttl > MAX_LIFETIME_SECONDS) {
        return fail('bad-lifetime', 'refusal.badLifetime');
      } else if (!admin && ttl > this.settings.inviteExpiry) {
        ttl = this.settings.inviteExpiry;
        capped = true;
      }
    }
    let note: string | undefined;
    if (req.note !== undefined) {
      note = oneLine(req.note);
      if ([...note].length > MAX_NOTE) return fail('bad-note', 'refusal.noteTooLong', { max: MAX_NOTE });
    }
    let groups: string[] = [];
    if (req.groups?.length) {
      if (!admin) return fail('not-admin', 'refusal.groupsAdmin');
      if (req.kind !== 'account' && req.kind !== 'account-contact') return fail('bad-group', 'refusal.groupsAccountOnly');
      if (!this.groups) return fail('bad-group', 'refusal.noGroup', { name: printable(req.groups[0]!) });
      const r = await this.groups.resolve(req.groups);
      if (!r.ok) return { ...r, code: 'bad-group' };
      groups = r.names;
    }
    return { ok: true, ...(ttl !== undefined ? { ttl } : {}), capped, ...(note ? { note } : {}), groups };
  }

  /**
   * Invites read from another system (Prosody's own store: import-prosody), added as they
   * are but for what the core would not take from a front end (a note is made one line and
   * cut to MAX_NOTE; groups that do not exist here are left out). A token imported once is
   * never imported again, even after its invite was used and archived: the hashes of every
   * imported token are kept (the `imports` document), so running an import twice, or after
   * a reset link was used, never brings a spent invite back.
   */
  async importInvites(invites: readonly Invite[]): Promise<{ imported: number; skipped: number; unknownGroups: string[] }> {
    let imported = 0;
    let skipped = 0;
    const unknownGroups = new Set<string>();
    const added: string[] = [];
    const seen = new Set(((await this.store.getDoc('imports')) as { hashes?: string[] } | undefined)?.hashes ?? []);
    for (const inv of invites) {
      if (seen.has(inv.tokenHash) || (await this.store.findByHash(inv.tokenHash))) {
        skipped++;
        continue;
      }
      const clean: Invite = { ...inv };
      if (clean.note !== undefined) {
        const note = oneLine(String(clean.note));
        if (note) clean.note = [...note].slice(0, MAX_NOTE).join('');
        else delete clean.note;
      }
      if (clean.groups !== undefined) {
        const known: string[] = [];
        for (const g of Array.isArray(clean.groups) ? clean.groups : []) {
          const r = this.groups ? await this.groups.resolve([String(g)]) : undefined;
          if (r?.ok) known.push(...r.names.filter((n) => !known.includes(n)));
          else unknownGroups.add(printable(String(g)));
        }
        if (known.length) clean.groups = known;
        else delete clean.groups;
      }
      seen.add(inv.tokenHash);
      let id = clean.id;
      while (await this.store.get(id)) id = newId();
      await this.store.add({ ...clean, id });
      added.push(inv.tokenHash);
      imported++;
    }
    // Recorded once the invites are in (a crash before leaves them live, where findByHash finds them for a day).
    if (added.length) {
      await this.store.changeDoc('imports', (d) => {
        const doc = (d as { hashes?: string[] } | undefined) ?? {};
        doc.hashes = [...(doc.hashes ?? []), ...added];
        return { write: true, doc, value: undefined };
      });
    }
    return { imported, skipped, unknownGroups: [...unknownGroups] };
  }

  /**
   * Why an invite of this kind for this username cannot work, as the server says now: a
   * bound account invite's name is taken, or a reset's account does not exist. Undefined
   * when it can work, or when the server cannot be asked (then the server refuses later).
   */
  async deadEnd(kind: InviteKind, username: string | undefined): Promise<'username-taken' | 'no-account' | undefined> {
    if (!username || !this.server || (kind !== 'account' && kind !== 'reset')) return undefined;
    const account = await this.server.account(`${username}@${this.domain}`).catch(() => undefined);
    if (!account) return undefined;
    if (kind === 'account' && account.exists) return 'username-taken';
    if (kind === 'reset' && !account.exists) return 'no-account';
    return undefined;
  }

  /**
   * A username as the server will store it: the server's own nodeprep when it can
   * be asked (through the bridge), else unpreppedUsername's. Registrations are then
   * compared with it exactly, as the server normalised them.
   */
  async prepUsername(input: string): Promise<string | null> {
    const kept = unpreppedUsername(input);
    if (!kept || !this.server?.nodeprep) return kept;
    const prepped = await this.server.nodeprep(input.trim()).catch(() => undefined);
    if (prepped === undefined) return kept;
    return prepped && isValidUsername(prepped) ? prepped : null;
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
  async lookup(token: string): Promise<Lookup> {
    const invite = looksLikeToken(token) ? await this.store.findByHash(hashToken(token)) : undefined;
    if (!invite) return { state: 'unknown' };
    return { state: this.stateOf(invite), invite } as Lookup;
  }

  /**
   * A lookup by a client about to use the token (XEP-0445's preauth): a token that
   * cannot be used is counted as refused, as reserve() counts its refusals.
   */
  async lookupToUse(token: string, purpose: Purpose): Promise<Lookup> {
    const found = await this.lookup(token);
    if (found.state !== 'valid') this.emit('refused', { code: found.state, purpose });
    return found;
  }

  /** Why a token in this state cannot be used, in words for the person holding it. */
  refusalFor(state: Exclude<InviteState, 'valid'>, invite?: Invite): Refusal {
    if (state === 'used' && invite && this.inFlight(invite) > 0) return this.inUse();
    return fail(state, `refusal.state.${state}`);
  }

  private inFlight(inv: Invite): number {
    return inv.uses.filter((u) => u.pending).length;
  }

  /**
   * Hold one use of the invite for a registration or subscription in progress.
   * The check and the hold are one change of the store, so concurrent callers,
   * in this process or another on the same database, are decided one at a time:
   * a single-use token is held by at most one of them. The hold is a pending use,
   * durable once this resolves (a failed write rejects, and holds nothing): the
   * server makes the account only after, so no crash or lost message can free
   * the token while an account made with it exists.
   */
  async reserve(token: string, use: Use): Promise<Result<{ reservation: string; invite: Invite }>> {
    const held = await this.hold(token, use);
    if (!held.ok) this.emit('refused', { code: held.code, purpose: use.purpose });
    return held;
  }

  private async hold(token: string, use: Use): Promise<Result<{ reservation: string; invite: Invite }>> {
    if (!looksLikeToken(token)) return this.refusalFor('unknown');
    const ref = randomUUID();
    const jid = use.purpose === 'register' ? `${use.username}@${this.domain}` : use.contact.toLowerCase();
    const hold = (invite: Invite): Changed<Refusal | undefined> => {
      // Decided again on the invite as it is now: another hold may have come first.
      const state = this.stateOf(invite);
      if (state !== 'valid') return { write: false, value: this.refusalFor(state, invite) };
      const refusal = use.purpose === 'register' ? this.refuseRegister(invite, use) : this.refuseRoster(invite, use);
      if (refusal) return { write: false, value: refusal };
      if (invite.uses.length >= invite.maxUses) return { write: false, value: this.inUse() };
      invite.uses.push({ jid, at: this.now().toISOString(), pending: use.purpose, ref, ...(this.instance ? { by: this.instance.id } : {}) });
      return { write: true, value: undefined };
    };
    // One step where the store can lock by token (a database: no read before); else find the id first.
    const hash = hashToken(token);
    const changed = this.store.changeByHash
      ? await this.store.changeByHash(hash, hold)
      : await this.store.findByHash(hash).then((found) => (found ? this.store.change(found.id, hold) : undefined));
    if (!changed) return this.refusalFor('unknown');
    if (changed.value) return changed.value;
    const timer = setTimeout(() => void this.expire(ref), RESERVATION_TTL_MS).unref();
    this.reservations.set(ref, { inviteId: changed.invite.id, invite: changed.invite, ref, jid, purpose: use.purpose, timer });
    return { ok: true, reservation: ref, invite: changed.invite };
  }

  private inUse(): Refusal {
    // Someone is registering with it right now: refusing keeps one use one account.
    return fail('in-use', 'refusal.inUse');
  }

  private refuseRegister(invite: Invite, use: Extract<Use, { purpose: 'register' }>): Refusal | undefined {
    if (!REGISTER_KINDS.has(invite.kind)) return fail('wrong-purpose', 'refusal.notForAccounts');
    // Exactly as given: the server has normalised it (the bridge sends Prosody's nodeprep,
    // the web form prepUsername()'s). Mapping it again here once let "alıce" match "alice".
    const user = use.username;
    if (!isValidUsername(user)) return fail('bad-username', 'refusal.badUsername', { username: printable(use.username) });
    if (invite.username && user !== invite.username) {
      return fail('username-mismatch', 'refusal.usernameMismatch', { username: invite.username });
    }
    // A reset must never create an account, and an account invite never takes over one.
    if (invite.kind === 'reset' && use.accountExists === false) return fail('no-account', 'refusal.noAccount', { username: user });
    if (invite.kind !== 'reset' && use.accountExists) return fail('username-taken', 'refusal.usernameTaken', { username: user });
    return undefined;
  }

  private refuseRoster(invite: Invite, use: Extract<Use, { purpose: 'roster' }>): Refusal | undefined {
    if (!ROSTER_KINDS.has(invite.kind)) return fail('wrong-purpose', 'refusal.notContact');
    if (invite.inviter !== use.user.toLowerCase()) return fail('not-yours', 'refusal.notYours');
    return undefined;
  }

  private take(reservation: string): Reservation | undefined {
    const r = this.reservations.get(reservation);
    if (!r) return undefined;
    clearTimeout(r.timer);
    this.reservations.delete(reservation);
    return r;
  }

  /** The registration or subscription failed: give the use back (false: no such reservation here). */
  async release(reservation: string): Promise<boolean> {
    const r = this.take(reservation);
    if (!r) return false;
    await this.drop(r.inviteId, { ref: r.ref });
    return true;
  }

  private async drop(inviteId: string, key: UseKey): Promise<void> {
    await this.store.change(inviteId, (invite) => {
      const use = findUse(invite, key);
      if (!use?.pending) return { write: false, value: undefined };
      invite.uses.splice(invite.uses.indexOf(use), 1);
      return { write: true, value: undefined };
    }).catch(() => {}); // a lost write leaves the use pending: fail closed
  }

  /**
   * The account exists (or the subscription is done): confirm the use durably,
   * grant roles. `token` covers a reservation this process no longer holds (a
   * restart): the pending use is found by its account, or a use is recorded anyway.
   * `rolesApplied`: the server has already given the account the invite's roles.
   */
  async commit(reservation: string, usedBy: string, token?: string, opts: { rolesApplied?: boolean } = {}): Promise<Result<{ invite: Invite }>> {
    const r = this.take(reservation);
    const target = r ? { invite: r.invite, key: { ref: r.ref } as UseKey } : await this.heldByToken(token, usedBy);
    if (!target) return fail('no-reservation', 'refusal.noReservation');
    const done = await this.confirm(target.invite, target.key, usedBy, opts.rolesApplied ?? false);
    return done ?? fail('no-reservation', 'refusal.noReservation');
  }

  /** Confirm a use (recording one when it is not found); undefined when the invite is gone. */
  private async confirm(before: Invite, key: UseKey, usedBy: string, rolesApplied = false): Promise<Result<{ invite: Invite }> | undefined> {
    const inviteId = before.id;
    // Granted first: granting again is harmless, and a failure here leaves the use
    // pending (the token stays spent) for settlePending() to finish.
    const grant = before.roles.length > 0 && before.kind === 'account' && !before.revokedAt;
    if (grant) await this.store.grantRoles(usedBy, before.roles);
    const changed = await this.store.change(inviteId, (invite): Changed<Purpose | null> => {
      const use = findUse(invite, key) ?? invite.uses.find((u) => u.jid === usedBy && u.pending);
      // Already confirmed (settled while the commit was on its way): nothing more to do.
      if (!use && invite.uses.some((u) => u.jid === usedBy && !u.pending)) return { write: false, value: null };
      const purpose = use?.pending ?? 'register';
      if (use) {
        use.jid = usedBy;
        delete use.pending;
        delete use.ref;
        delete use.by;
      } else {
        invite.uses.push({ jid: usedBy, at: this.now().toISOString() });
      }
      return { write: true, value: purpose };
    });
    if (!changed) return undefined;
    if (grant) this.serverAdmins.delete(usedBy); // ask the server afresh
    if (changed.value) this.emit('used', { invite: changed.invite, usedBy, purpose: changed.value, rolesApplied });
    return { ok: true, invite: changed.invite };
  }

  private async heldByToken(token: string | undefined, usedBy: string): Promise<{ invite: Invite; key: UseKey } | undefined> {
    const invite = token && looksLikeToken(token) ? await this.store.findByHash(hashToken(token)) : undefined;
    if (!invite || !REGISTER_KINDS.has(invite.kind)) return undefined;
    // Confirmed already by someone (a settle): the change below finds it so and records nothing twice.
    return { invite, key: { jid: usedBy } };
  }

  /** A reservation nobody finished: settle it by whether its account exists. */
  private async expire(reservation: string): Promise<void> {
    const r = this.take(reservation);
    if (r) await this.settle(r.invite, { ref: r.ref }, r.jid, r.purpose);
  }

  private async settle(invite: Invite, key: UseKey, jid: string, purpose: Purpose): Promise<void> {
    // Only an account can be checked; a subscription in doubt stays spent (fail closed).
    if (purpose !== 'register' || !this.server) return;
    const exists = await this.accountExists(jid);
    if (exists === true) await this.confirm(invite, key, jid);
    else if (exists === false) await this.drop(invite.id, key);
  }

  /**
   * Settle pending uses whose outcome may have been lost: those of an earlier run
   * (a crash), and, after the connection to the server was back, those still held
   * here whose account already exists (their commit was lost on the way). A held
   * use whose account does not exist yet may still be in progress: left alone.
   * On a store shared by several instances, another one's hold is settled once
   * that instance is gone (a leader killed mid-registration), or once older than a
   * reservation lives. Returns how many pending uses were looked at.
   */
  async settlePending(): Promise<number> {
    let looked = 0;
    const young = this.now().getTime() - RESERVATION_TTL_MS;
    for (const inv of await this.store.withPendingUses()) {
      for (const use of inv.uses.filter((u) => u.pending)) {
        looked++;
        const key: UseKey = use.ref ? { ref: use.ref } : { jid: use.jid };
        const mine = use.ref ? this.reservations.get(use.ref) : undefined;
        if (!mine) {
          if (this.store.shared && Date.parse(use.at) > young && !(await this.holderGone(use.by))) continue;
          await this.settle(inv, key, use.jid, use.pending!);
        } else if (use.pending === 'register' && (await this.accountExists(use.jid)) === true && this.take(mine.ref)) {
          await this.confirm(inv, key, use.jid);
        }
      }
    }
    return looked;
  }

  /** Is the instance that made a hold known to be gone? (Not known: treat as alive.) */
  private async holderGone(by: string | undefined): Promise<boolean> {
    if (!by || !this.instance || by === this.instance.id) return false;
    return !(await this.instance.alive(by).catch(() => true));
  }

  private async accountExists(jid: string): Promise<boolean | undefined> {
    const answer = await this.server?.account(jid).catch(() => undefined);
    return answer?.exists;
  }

  async revoke(actor: Actor, id: string): Promise<Result<{ invite: Invite }>> {
    const found = await this.store.get(id.trim().toLowerCase());
    const subject = await this.subject(actor);
    // Non-admins learn nothing about invites that are not theirs.
    if (!found || (!subject.admin && found.createdBy !== subject.jid)) {
      return fail('not-found', 'refusal.noSuchId', { id: printable(id) });
    }
    const changed = await this.store.change(found.id, (invite): Changed<Refusal | undefined> => {
      const state = this.stateOf(invite);
      if (state !== 'valid') return { write: false, value: fail('not-found', `refusal.notRevocable.${state}`, { id: invite.id }) };
      invite.revokedAt = this.now().toISOString();
      return { write: true, value: undefined };
    });
    if (!changed) return fail('not-found', 'refusal.noSuchId', { id: printable(id) });
    return changed.value ?? { ok: true, invite: changed.invite };
  }

  /**
   * One page of the invites that can still be used: the actor's own, or everyone's
   * for admins with `all`; `after` is the `next` of the page before.
   */
  async listPending(actor: Actor, opts: { all?: boolean; after?: string; limit?: number } = {}): Promise<Result<{ invites: Invite[]; next?: string }>> {
    const subject = await this.subject(actor);
    if (opts.all && !subject.admin) return fail('not-admin', 'refusal.listAll');
    const page = await this.store.page({
      ...(opts.all ? {} : { createdBy: this.creator(actor) }),
      openAt: this.now(),
      ...(opts.after ? { after: opts.after } : {}),
      limit: Math.min(Math.max(1, opts.limit ?? DEFAULT_PAGE), MAX_PAGE),
    });
    return { ok: true, ...page };
  }

  /**
   * One page of every live invite, ended ones too, for tools (the HTTP API): `state`
   * keeps only those in that state now, `createdBy` one creator's. Ended invites stay
   * live a day before the archive, so "used", "expired" and "revoked" reach back that far.
   * A page filtered by state may hold fewer than `limit`; `next` goes on.
   */
  async listInvites(actor: Actor, opts: { state?: InviteState; createdBy?: string; after?: string; limit?: number } = {}): Promise<Result<{ invites: Invite[]; next?: string }>> {
    const subject = await this.subject(actor);
    if (!subject.admin) return fail('not-admin', 'refusal.listAll');
    const page = await this.store.page({
      ...(opts.createdBy !== undefined ? { createdBy: opts.createdBy } : {}),
      openAt: this.now(),
      ended: opts.state !== 'valid',
      ...(opts.after ? { after: opts.after } : {}),
      limit: Math.min(Math.max(1, opts.limit ?? DEFAULT_PAGE), MAX_PAGE),
    });
    const invites = opts.state ? page.invites.filter((i) => this.stateOf(i) === opts.state) : page.invites;
    return { ok: true, invites, ...(page.next ? { next: page.next } : {}) };
  }

  /** One invite by id, for its creator or an admin (others learn nothing of it). */
  async getInvite(actor: Actor, id: string): Promise<Result<{ invite: Invite; state: InviteState }>> {
    const found = await this.store.get(id.trim().toLowerCase());
    const subject = await this.subject(actor);
    if (!found || (!subject.admin && found.createdBy !== subject.jid)) return fail('not-found', 'refusal.noSuchId', { id: printable(id) });
    return { ok: true, invite: found, state: this.stateOf(found) };
  }

  /** Every page of listPending in turn (the CLI's whole list; first-run's old invites). */
  async *eachPending(actor: Actor, opts: { all?: boolean } = {}): AsyncGenerator<Invite[]> {
    let after: string | undefined;
    do {
      const page = await this.listPending(actor, { ...opts, after, limit: MAX_PAGE });
      if (!page.ok) throw new Error(page.message);
      yield page.invites;
      after = page.next;
    } while (after);
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
    const cutoff = new Date(this.now().getTime() - graceSeconds * 1000);
    return this.store.archive((inv) => {
      const ended = this.endedAt(inv);
      return ended !== undefined && ended < cutoff && this.inFlight(inv) === 0;
    });
  }

  /** Shutdown: stop the timers. Pending uses stay on disk, settled at the next start. */
  close(): void {
    for (const r of this.reservations.values()) clearTimeout(r.timer);
    this.reservations.clear();
  }
}

/** A note as lists show it: one line, without control or invisible formatting characters (a bidi override could disguise it). */
function oneLine(text: string): string {
  return text.replace(/[\p{Cf}]+/gu, '').replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ').trim();
}

/** Who an actor is, as an invite's createdBy says: a JID, "cli", "first-run", or "api:KEYNAME". */
export function creatorName(actor: Actor): string {
  if ('jid' in actor) return actor.jid;
  return actor.system === 'api' ? `api:${actor.key}` : actor.system;
}

/** Echo user input safely in a sentence: short, one line, no control characters. */
export function printable(s: string, max = 40): string {
  // By code points, so a cut never splits a surrogate pair (an emoji) in two.
  const chars = [...s.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ').trim()];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : chars.join('');
}

// The seam between the invite core and where invites live: one interface, one
// folder per implementation (lowdb/, postgres/), one contract suite run on each
// (test/contract/). The core decides; a store keeps, finds and changes atomically.
import type { Invite, Role } from '../invites/types.js';

/** One page of a list, oldest first; `next` continues it, absent on the last page. */
export interface Page {
  invites: Invite[];
  next?: string;
}

export interface PageQuery {
  /** Only this creator's (a bare JID, "cli" or "first-run"); every creator's when absent. */
  createdBy?: string;
  /** Only invites that can still be used at this time (see isOpen). */
  openAt: Date;
  /** Every live invite instead, ended ones too (they stay live a day before the archive). */
  ended?: boolean;
  /** A `next` from the page before. */
  after?: string;
  limit: number;
}

/**
 * What a change function returns: `write: false` leaves the invite as it was
 * (a refusal); otherwise the changed draft is stored before the change resolves.
 */
export interface Changed<T> {
  write: boolean;
  value: T;
}

export interface StoreStats {
  /** Live invites (the archive not counted). */
  invites: number;
  /** The last start's read of the files (lowdb) or connection (PostgreSQL), seconds. */
  openSeconds: number;
  /** The last compaction's duration, seconds (lowdb only). */
  lastCompactionSeconds?: number;
}

/** The small documents kept beside the invites, each read and changed whole. */
export type DocName = 'groups' | 'api-keys' | 'imports';

/** What a document change returns: with `write`, `doc` replaces the document before the change resolves. */
export interface DocChanged<T> {
  write: boolean;
  doc?: unknown;
  value: T;
}

export interface InviteStore {
  readonly backend: 'lowdb' | 'postgres';
  /** Several processes may write it at once (so a hold not made here may be in progress elsewhere). */
  readonly shared: boolean;
  get(id: string): Promise<Invite | undefined>;
  findByHash(hash: string): Promise<Invite | undefined>;
  /** Every live invite `creator` made, oldest first. Quotas keep this short for non-admins. */
  createdBy(creator: string): Promise<Invite[]>;
  /** One page of the invites that can still be used, oldest first. */
  page(query: PageQuery): Promise<Page>;
  /** Invites with a use still pending (in doubt after a crash or a lost answer). */
  withPendingUses(): Promise<Invite[]>;
  /** Store a new invite; resolves once it is durable. A failed add leaves nothing behind. */
  add(inv: Invite): Promise<void>;
  /**
   * Read, change and store one invite as one step: no other change to it, from
   * this process or another, comes between. `fn` gets a private copy (a draft)
   * and must not await. Undefined when there is no such invite. The store holds
   * the new state only once it is durable: a failed write rejects and changes nothing.
   */
  change<T>(id: string, fn: (draft: Invite) => Changed<T>): Promise<{ invite: Invite; value: T } | undefined>;
  /**
   * The same as change() on the invite with this token hash, in one step: where a read
   * costs a round trip (a database), the hold on a token needs no read before it.
   * Optional: the core finds the id first (findByHash) where it is absent.
   */
  changeByHash?<T>(tokenHash: string, fn: (draft: Invite) => Changed<T>): Promise<{ invite: Invite; value: T } | undefined>;
  /** Roles made by invites. Read from memory (they are few), so admin checks stay synchronous. */
  roles(jid: string): readonly Role[];
  anyoneWithRole(role: Role): boolean;
  grantRoles(jid: string, roles: readonly Role[]): Promise<void>;
  /** Move ended invites (as `isEnded` says) out of the live store into its archive; returns how many. */
  archive(isEnded: (inv: Invite) => boolean): Promise<number>;
  /** Drop archived invites older than `keepDays`; returns what was dropped (files or a count). */
  pruneArchives(keepDays: number, now: Date): Promise<string[]>;
  stats(): Promise<StoreStats>;
  /** A document as last stored (a private copy), or undefined when it was never written. */
  getDoc(name: DocName): Promise<unknown>;
  /**
   * Read, change and store one document as one step, as change() does for an invite:
   * `fn` gets a private copy (undefined at first) and must not await; no other change
   * to that document, from this process or another, comes between.
   */
  changeDoc<T>(name: DocName, fn: (draft: unknown) => DocChanged<T>): Promise<T>;
  /** Wait for every change asked for so far to be durable. */
  flush(): Promise<void>;
  /** Flush, then let go of files, locks and connections. */
  close(): Promise<void>;
}

/** Can this invite still be used at `at`? A pending use does not count yet (see the core's stateOf). */
export function isOpen(inv: Invite, at: Date): boolean {
  if (inv.revokedAt) return false;
  if (inv.uses.filter((u) => !u.pending).length >= inv.maxUses) return false;
  return at < new Date(inv.expiresAt);
}

/** Lists are ordered by creation time, then id; a page's `next` is the last one's position. */
export function cursorOf(inv: Invite): string {
  return `${inv.createdAt}|${inv.id}`;
}

export function parseCursor(cursor: string | undefined): { createdAt: string; id: string } | undefined {
  if (!cursor) return undefined;
  const bar = cursor.indexOf('|');
  if (bar < 0) return undefined;
  return { createdAt: cursor.slice(0, bar), id: cursor.slice(bar + 1) };
}

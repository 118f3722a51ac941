// Multi-stage command sessions (XEP-0050 sessionid): bound to one asker and one
// node, expiring, and bounded in number so no one can grow the map. Admins and
// everyone else have a pool each, so no number of ordinary accounts can push an
// admin's session out. Within a full pool a new session evicts the oldest of an
// asker at their own cap; failing that, the oldest of one holding more than one (a
// full pool is a pool under pressure: one each is then the share). Only as many
// accounts as the pool holds sessions, each with one open, can keep others out.
import { randomUUID } from 'node:crypto';

export interface SessionLimits {
  /** A session not continued within this many milliseconds is forgotten. */
  ttlMs: number;
  /** Sessions held at once in each pool (admins, everyone else). */
  max: number;
  /** Sessions one asker holds at once: their oldest goes first. */
  maxPerOwner: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { ttlMs: 10 * 60_000, max: 1000, maxPerOwner: 5 };

export type Pool = 'admin' | 'user';

export interface Session<T> {
  id: string;
  /** Bare JID of the asker. */
  owner: string;
  pool: Pool;
  node: string;
  state: T;
  expiresAt: number;
}

/**
 * No timers: the map is kept in expiry order (every touch re-inserts), so each
 * access drops expired sessions from its front, and the caps bound it meanwhile.
 */
export class Sessions<T> {
  private readonly byId = new Map<string, Session<T>>();
  private readonly perOwner = new Map<string, number>();
  private readonly perPool = new Map<Pool, number>();

  constructor(readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS, private readonly now: () => number = Date.now) {}

  get size(): number {
    this.sweep();
    return this.byId.size;
  }

  /** A new session, or undefined when the pool is full of askers holding one session each (try later). */
  open(owner: string, node: string, state: T, pool: Pool = 'user'): Session<T> | undefined {
    this.sweep();
    if ((this.perOwner.get(owner) ?? 0) >= this.limits.maxPerOwner) {
      this.close([...this.byId.values()].find((s) => s.owner === owner)!.id);
    } else if ((this.perPool.get(pool) ?? 0) >= this.limits.max) {
      // Oldest first, of an asker who holds their whole share; else of one who holds more than one.
      const inPool = [...this.byId.values()].filter((s) => s.pool === pool);
      const held = (s: Session<T>) => this.perOwner.get(s.owner) ?? 0;
      const evictable = inPool.find((s) => held(s) >= this.limits.maxPerOwner) ?? inPool.find((s) => held(s) > 1);
      if (!evictable) return undefined;
      this.close(evictable.id);
    }
    const session: Session<T> = { id: randomUUID(), owner, pool, node, state, expiresAt: this.now() + this.limits.ttlMs };
    this.byId.set(session.id, session);
    this.perOwner.set(owner, (this.perOwner.get(owner) ?? 0) + 1);
    this.perPool.set(pool, (this.perPool.get(pool) ?? 0) + 1);
    return session;
  }

  /** The live session with this id, or undefined (unknown, expired). */
  get(id: string): Session<T> | undefined {
    this.sweep();
    return this.byId.get(id);
  }

  /** Keep the session for another stage, with a fresh expiry. */
  touch(session: Session<T>, state: T): void {
    if (this.byId.get(session.id) !== session) return;
    this.byId.delete(session.id);
    session.state = state;
    session.expiresAt = this.now() + this.limits.ttlMs;
    this.byId.set(session.id, session);
  }

  close(id: string): void {
    const s = this.byId.get(id);
    if (!s) return;
    this.byId.delete(id);
    const n = (this.perOwner.get(s.owner) ?? 1) - 1;
    if (n > 0) this.perOwner.set(s.owner, n);
    else this.perOwner.delete(s.owner);
    this.perPool.set(s.pool, (this.perPool.get(s.pool) ?? 1) - 1);
  }

  clear(): void {
    this.byId.clear();
    this.perOwner.clear();
    this.perPool.clear();
  }

  private sweep(): void {
    const now = this.now();
    for (const s of this.byId.values()) {
      if (s.expiresAt > now) break;
      this.close(s.id);
    }
  }
}

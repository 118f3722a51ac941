// Which instance holds the bot and the component. With the lowdb store there is
// one process (its writer lock sees to that), so it always leads. With PostgreSQL
// several instances share the database: the leader is whoever holds a session-level
// advisory lock, which PostgreSQL lets go the moment the holder's connection ends
// (a crash, a kill -9, a lost network), so a waiting instance takes over within a
// poll interval. A leader that cannot reach the database any more steps down at
// once rather than risk two leaders.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { log } from './log.js';

export interface Leadership {
  readonly leading: boolean;
  /** Start trying; `elected` and `deposed` tell of changes. Resolves after the first try. */
  start(): Promise<void>;
  /** Let go (stepping down first when leading). */
  stop(): Promise<void>;
  /** Give up the lead for a while, its duties could not start (a sole instance cannot). */
  resign(): void;
  on(event: 'elected' | 'deposed', listener: () => void): this;
}

/** The only instance there can be. */
export class SoleLeader extends EventEmitter implements Leadership {
  leading = false;

  async start(): Promise<void> {
    this.leading = true;
    this.emit('elected');
  }

  async stop(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    this.emit('deposed');
  }

  resign(): void {}
}

export interface PostgresLeaderOptions {
  /** How often a waiting instance tries for the lock, and the leader checks its connection. Default 1000 ms. */
  pollMs?: number;
}

/** The lock's name: one leader per XMPP domain, so two deployments can share a database. */
export function leaderLockName(domain: string): string {
  return `xmpp-invites leader ${domain}`;
}

/** Each instance holds a lock of its own while it runs, so the others can tell it is gone. */
function instanceLockName(id: string): string {
  return `xmpp-invites instance ${id}`;
}

export class PostgresLeader extends EventEmitter implements Leadership {
  leading = false;
  /** This instance's id: marks its holds on invites (InviteUse.by). */
  readonly instanceId = randomUUID();
  private client?: pg.Client;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private ticking?: Promise<void>;
  private readonly pollMs: number;
  /** After resign(): no try for the lead before this time. */
  private pauseUntil = 0;

  constructor(private readonly url: string, private readonly lockName: string, opts: PostgresLeaderOptions = {}) {
    super();
    this.pollMs = opts.pollMs ?? 1000;
  }

  async start(): Promise<void> {
    await this.tick();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => this.schedule());
    }, this.pollMs);
    this.timer.unref();
  }

  /** One round: the leader checks its session is alive; a waiting instance tries for the lock. */
  private async tick(): Promise<void> {
    try {
      if (!this.leading && Date.now() < this.pauseUntil) return;
      const client = await this.connection();
      if (this.leading) {
        // A query that cannot complete means the session (and so the lock) may be gone.
        await client.query({ text: 'SELECT 1', query_timeout: this.pollMs * 2 } as pg.QueryConfig);
        return;
      }
      const r = await client.query<{ got: boolean }>({
        text: 'SELECT pg_try_advisory_lock(hashtext($1)) AS got',
        values: [this.lockName],
        query_timeout: this.pollMs * 2,
      } as pg.QueryConfig);
      if (r.rows[0]?.got && !this.stopped) {
        this.leading = true;
        log.info('leader: this instance now holds the bot and the component');
        this.emit('elected');
      }
    } catch (e) {
      this.lost(`the database did not answer (${(e as Error).message})`);
    }
  }

  /** Give up the lead (its duties could not start): let another instance try first. */
  resign(): void {
    if (!this.leading) return;
    this.pauseUntil = Date.now() + this.pollMs * 5;
    this.lost('it resigned');
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    if (this.stopped) throw new Error('stopped');
    const client = new pg.Client({ connectionString: this.url, application_name: 'xmpp-invites leader', keepAlive: true });
    // An error on an idle connection ends the session: the lock is gone with it.
    client.on('error', (e) => this.lost(`its database connection failed (${e.message})`));
    client.on('end', () => { if (this.client === client) this.lost('its database connection ended'); });
    this.client = client;
    try {
      await client.connect();
      // Waits while a session of ours that ended badly still holds it, but not for ever.
      await client.query({ text: 'SELECT pg_advisory_lock(hashtext($1))', values: [instanceLockName(this.instanceId)], query_timeout: this.pollMs * 5 } as pg.QueryConfig);
    } catch (e) {
      this.client = undefined;
      await client.end().catch(() => {});
      throw e;
    }
    return client;
  }

  private lost(why: string): void {
    const client = this.client;
    this.client = undefined;
    client?.end().catch(() => {});
    if (this.leading) {
      this.leading = false;
      log.warn(`leader: stepping down: ${why}`);
      this.emit('deposed');
    } else if (!this.stopped) {
      log.warn(`leader: cannot try for the lead: ${why}; trying again`);
    }
  }

  /**
   * Does the instance `id` still run? Its lock is free only once its session ended.
   * Asked on this instance's own session, which takes the lock for a moment when free.
   */
  async alive(id: string): Promise<boolean> {
    if (id === this.instanceId) return true;
    const client = await this.connection();
    const name = instanceLockName(id);
    const r = await client.query<{ free: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS free', [name]);
    if (!r.rows[0]?.free) return true;
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [name]);
    return false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking?.catch(() => {});
    const client = this.client;
    this.client = undefined;
    if (this.leading) {
      this.leading = false;
      this.emit('deposed');
    }
    // Ending the session lets go of the lock: a waiting instance takes over at its next try.
    await client?.end().catch(() => {});
  }
}

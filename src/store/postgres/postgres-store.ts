// The PostgreSQL invite store (STORE_URL=postgresql://…), for servers that outgrow
// one process: several service instances share one database. Each invite is one
// row: the whole invite as jsonb (the source of truth) plus columns derived from it
// on every write (columnsOf, the only place) for lists and look-ups. A change is one
// transaction holding the row's lock (SELECT … FOR UPDATE), so changes to one
// invite from any number of processes are decided one at a time. Roles are few and
// read synchronously: every instance keeps them in memory, loaded at open and kept
// fresh by LISTEN/NOTIFY (a trigger on the roles table announces every change).
// The schema is in migrations/, applied at open (migrate.ts). docs/postgres-store.md.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Invite, Role } from '../../invites/types.js';
import { log } from '../../log.js';
import { type Changed, type DocChanged, type DocName, type InviteStore, type Page, type PageQuery, type StoreStats, cursorOf, parseCursor } from '../store.js';
import { KeyedQueue } from '../keyed-queue.js';
import { migrate } from './migrate.js';

export interface PostgresStoreOptions {
  /** Connections in the pool. Default 10. */
  max?: number;
  /** How long opening a connection may take, ms. Default 10000. */
  connectTimeoutMs?: number;
  /** Apply the migrations at open (under node-pg-migrate's advisory lock). Default true. */
  migrate?: boolean;
  /** The roles listener's longest wait between reconnection attempts, ms. Default 5000. */
  maxListenRetryMs?: number;
}

/** The channel the roles trigger announces on (see the migration). */
const ROLES_CHANNEL = 'invite_store_roles';
/** Invites read per batch by archive(). */
const ARCHIVE_BATCH = 2000;
/** Below this (planner's estimate) stats() counts exactly; above, it gives the estimate. */
const EXACT_COUNT_BELOW = 100_000;
const DAY_MS = 86_400_000;

/** Where a URL points, for messages: host, port and database, never the user's password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname || u.searchParams.get('host') || 'localhost';
    const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || u.username || 'postgres';
    return `${host}${u.port ? `:${u.port}` : ''}/${db}`;
  } catch {
    return '(an unreadable URL)';
  }
}

/** `text` without the URL's password, wherever it appears. */
function withoutPassword(text: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // unreadable URL: nothing to hide that we can find
  }
  return password ? text.split(password).join('***') : text;
}

/** Opening the store failed: the database could not be reached, or refused us. */
export class PostgresStoreOpenError extends Error {
  constructor(readonly where: string, reason: string, refused = false) {
    super(`STORE_URL: the PostgreSQL database ${where} ${refused ? 'refused the connection' : 'could not be reached'}: ${reason}`);
    this.name = 'PostgresStoreOpenError';
  }
}

/** The derived columns of an invite, in the order of COLUMNS. The only place they are computed. */
function columnsOf(inv: Invite): (string | number | boolean | null)[] {
  return [
    inv.id,
    inv.tokenHash,
    inv.createdBy,
    inv.createdAt,
    // An expiry that is not a date never lets the invite be open (as isOpen: NaN compares false).
    Number.isNaN(Date.parse(inv.expiresAt)) ? '-infinity' : inv.expiresAt,
    inv.revokedAt ? inv.revokedAt : null,
    inv.maxUses,
    inv.uses.filter((u) => !u.pending).length,
    inv.uses.some((u) => u.pending),
    JSON.stringify(inv),
  ];
}
const COLUMNS = ['id', 'token_hash', 'created_by', 'created_at', 'expires_at', 'revoked_at', 'max_uses', 'confirmed_uses', 'has_pending', 'invite'];
const CASTS = ['text', 'text', 'text', 'timestamptz', 'timestamptz', 'timestamptz', 'integer', 'integer', 'boolean', 'jsonb'];

/** A value as a SQL literal (for the simple-protocol statements of change()). */
function literal(client: pg.PoolClient, v: string | number | boolean | null, cast: string): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`not a number for ${cast}: ${v}`);
    return `${Math.trunc(v)}::${cast}`;
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return `${client.escapeLiteral(v)}::${cast}`;
}

/** Keeps the in-memory roles fresh: LISTEN on a dedicated connection, reconnected when it drops. */
class RolesListener {
  private client?: pg.Client;
  private closed = false;
  private retryMs = 100;
  private timer?: NodeJS.Timeout;
  private readonly where: string;

  constructor(
    private readonly url: string,
    private readonly maxRetryMs: number,
    private readonly onChange: (jid: string) => void,
    /** After a reconnection: notifications may have been missed meanwhile. */
    private readonly onResync: () => Promise<void>,
  ) {
    this.where = describeUrl(url);
  }

  /** The first connection: its failure fails the open. */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, keepAlive: true });
    let lost = false;
    const drop = (why: string) => {
      if (lost) return;
      lost = true;
      client.removeAllListeners('notification');
      void client.end().catch(() => {});
      if (this.client === client) this.client = undefined;
      if (this.closed) return;
      log.warn(`PostgreSQL store ${this.where}: the roles listener lost its connection (${withoutPassword(why, this.url)}); reconnecting`);
      this.schedule();
    };
    client.on('error', (e) => drop(e.message));
    client.on('end', () => drop('connection ended'));
    client.on('notification', (n) => {
      if (n.channel === ROLES_CHANNEL && n.payload) this.onChange(n.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${ROLES_CHANNEL}`);
    } catch (e) {
      lost = true;
      client.removeAllListeners();
      client.on('error', () => {});
      void client.end().catch(() => {});
      throw e;
    }
    if (this.closed) {
      void client.end().catch(() => {});
      return;
    }
    this.client = client;
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect().then(() => {
        this.retryMs = 100;
        log.info(`PostgreSQL store ${this.where}: the roles listener is connected again`);
        this.resync(100);
      }, () => {
        this.retryMs = Math.min(this.retryMs * 2, this.maxRetryMs);
        this.schedule();
      });
    }, this.retryMs);
    this.timer.unref();
  }

  /** Read every role again (what was announced while disconnected is lost); retried until it works. */
  private resync(waitMs: number): void {
    if (this.closed) return;
    this.onResync().catch((e: Error) => {
      if (this.closed) return;
      log.warn(`PostgreSQL store ${this.where}: could not reload the roles after reconnecting (${e.message}); trying again`);
      const next = Math.min(waitMs * 2, this.maxRetryMs);
      setTimeout(() => this.resync(next), waitMs).unref();
    });
  }

  /** For tests: the listener's connection, to break it on purpose. */
  get connection(): pg.Client | undefined {
    return this.client;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => {});
  }
}

/** Invites whose last seen state and version an instance keeps (see PostgresStore.known). */
const KNOWN_MAX = 10_000;

export class PostgresStore implements InviteStore {
  readonly backend = 'postgres';
  /** Several instances may share the database: a hold not made here may be in progress elsewhere. */
  readonly shared = true;
  /** Each account's roles, as the roles table has them (kept fresh by the listener). */
  private readonly roleMap = new Map<string, Role[]>();
  /** Raised by each local grant: a reload that started before it must not undo it. */
  private readonly roleGen = new Map<string, number>();
  /** The change of each invite running here: the next one here waits for it (one connection per invite). */
  private readonly changing = new KeyedQueue();
  /**
   * The last state and version of invites this instance read or wrote (most recent last,
   * at most KNOWN_MAX): a change from it is one statement that succeeds only if the row is
   * still at that version (else the locked path), and a hold needs no read of the token's row.
   */
  private readonly known = new Map<string, { version: string; invite: Invite }>();
  private readonly idOfHash = new Map<string, string>();
  private archiving: Promise<number> | null = null;
  private closing?: Promise<void>;
  private openSeconds = 0;
  private listener!: RolesListener;

  private constructor(
    private readonly pool: pg.Pool,
    readonly where: string,
  ) {}

  /**
   * Connect, apply the migrations (waiting for another instance doing the same), load the
   * roles and start listening for their changes. A database that cannot be reached or
   * refuses us rejects with PostgresStoreOpenError, naming host and database, never the password.
   */
  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const started = performance.now();
    const where = describeUrl(url);
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.max ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
      keepAlive: true,
    });
    // An idle connection that breaks (a server restart) is dropped by the pool; the next query opens another.
    pool.on('error', (e) => log.warn(`PostgreSQL store ${where}: an idle connection failed (${withoutPassword(e.message, url)})`));
    const store = new PostgresStore(pool, where);
    try {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        throw new PostgresStoreOpenError(where, withoutPassword(reasonOf(e), url), isServerError(e));
      }
      try {
        if (opts.migrate ?? true) {
          const applied = await migrate(client);
          if (applied.length) log.info(`PostgreSQL store ${where}: applied migrations ${applied.join(', ')}`);
        }
      } finally {
        client.release();
      }
      // Listening first, then reading: a grant made in between is announced, not missed.
      store.listener = new RolesListener(url, opts.maxListenRetryMs ?? 5000, (jid) => store.refreshRoles(jid), () => store.loadRoles());
      try {
        await store.listener.start();
      } catch (e) {
        throw new PostgresStoreOpenError(where, withoutPassword(reasonOf(e), url), isServerError(e));
      }
      await store.loadRoles();
    } catch (e) {
      await store.listener?.close();
      await pool.end().catch(() => {});
      throw e;
    }
    store.openSeconds = (performance.now() - started) / 1000;
    return store;
  }

  // -------------------------------------------------------------------------
  // Roles

  /** Every account's roles, read afresh (at open, and after the listener reconnected). */
  private async loadRoles(): Promise<void> {
    const gens = new Map(this.roleGen);
    const { rows } = await this.pool.query<{ jid: string; roles: Role[] }>(
      'SELECT jid, array_agg(role ORDER BY seq) AS roles FROM roles GROUP BY jid',
    );
    const seen = new Set<string>();
    for (const r of rows) {
      seen.add(r.jid);
      if ((this.roleGen.get(r.jid) ?? 0) === (gens.get(r.jid) ?? 0)) this.roleMap.set(r.jid, r.roles);
    }
    for (const jid of this.roleMap.keys()) {
      if (!seen.has(jid) && (this.roleGen.get(jid) ?? 0) === (gens.get(jid) ?? 0)) this.roleMap.delete(jid);
    }
  }

  /** One account's roles read afresh, after a notification ('*': everyone's). */
  private refreshRoles(jid: string): void {
    if (this.closing) return;
    const reload = jid === '*' ? this.loadRoles() : (async () => {
      const gen = this.roleGen.get(jid) ?? 0;
      const { rows } = await this.pool.query<{ role: Role }>('SELECT role FROM roles WHERE jid = $1 ORDER BY seq', [jid]);
      if ((this.roleGen.get(jid) ?? 0) !== gen) return; // a grant here since: its own notification follows
      if (rows.length) this.roleMap.set(jid, rows.map((r) => r.role));
      else this.roleMap.delete(jid);
    })();
    reload.catch((e: Error) => {
      if (!this.closing) log.warn(`PostgreSQL store ${this.where}: could not reload the roles of ${jid === '*' ? 'every account' : jid} (${e.message})`);
    });
  }

  roles(jid: string): readonly Role[] {
    return this.roleMap.get(jid) ?? [];
  }

  anyoneWithRole(role: Role): boolean {
    for (const roles of this.roleMap.values()) if (roles.includes(role)) return true;
    return false;
  }

  /** Adds `roles` to the account's (a union); resolves once committed, and roles() has them here at once. */
  async grantRoles(jid: string, roles: readonly Role[]): Promise<void> {
    if (roles.length === 0) return;
    await this.pool.query(
      'INSERT INTO roles (jid, role) SELECT $1, r FROM unnest($2::text[]) WITH ORDINALITY AS t(r, n) ORDER BY n ON CONFLICT DO NOTHING',
      [jid, [...roles]],
    );
    this.roleGen.set(jid, (this.roleGen.get(jid) ?? 0) + 1);
    const have = [...(this.roleMap.get(jid) ?? [])];
    for (const r of roles) if (!have.includes(r)) have.push(r);
    this.roleMap.set(jid, have);
  }

  // -------------------------------------------------------------------------
  // Reads

  async get(id: string): Promise<Invite | undefined> {
    const { rows } = await this.pool.query<{ invite: Invite; version: string }>('SELECT invite, version FROM invites WHERE id = $1', [id]);
    if (rows[0]) this.remember(rows[0].invite, rows[0].version);
    return rows[0]?.invite;
  }

  async findByHash(hash: string): Promise<Invite | undefined> {
    const { rows } = await this.pool.query<{ invite: Invite; version: string }>('SELECT invite, version FROM invites WHERE token_hash = $1', [hash]);
    if (rows[0]) this.remember(rows[0].invite, rows[0].version);
    return rows[0]?.invite;
  }

  private remember(inv: Invite, version: string): void {
    this.known.delete(inv.id);
    this.known.set(inv.id, { version, invite: structuredClone(inv) });
    this.idOfHash.set(inv.tokenHash, inv.id);
    if (this.known.size > KNOWN_MAX) {
      const [oldest, k] = this.known.entries().next().value!;
      this.known.delete(oldest);
      this.idOfHash.delete(k.invite.tokenHash);
    }
  }

  async createdBy(creator: string): Promise<Invite[]> {
    const { rows } = await this.pool.query<{ invite: Invite }>(
      'SELECT invite FROM invites WHERE created_by = $1 ORDER BY created_at, id', [creator],
    );
    return rows.map((r) => r.invite);
  }

  /**
   * Keyset pagination in (created_at, id) order over the open rows (isOpen in SQL).
   * created_at is a timestamptz (microseconds, so the ISO strings' milliseconds round-trip
   * exactly): for the ISO strings the core writes, time order is the string order
   * the lowdb store keeps. A cursor whose time cannot be read yields an empty page.
   */
  async page(q: PageQuery): Promise<Page> {
    const where = q.ended ? ['true'] : ['revoked_at IS NULL', 'confirmed_uses < max_uses', 'expires_at > $1'];
    const values: unknown[] = q.ended ? [] : [q.openAt.toISOString()];
    if (q.createdBy !== undefined) {
      values.push(q.createdBy);
      where.push(`created_by = $${values.length}`);
    }
    const after = parseCursor(q.after);
    if (after) {
      if (Number.isNaN(Date.parse(after.createdAt))) return { invites: [] };
      values.push(after.createdAt, after.id);
      where.push(`(created_at, id) > ($${values.length - 1}::timestamptz, $${values.length})`);
    }
    const limit = Math.max(0, Math.floor(q.limit));
    values.push(limit + 1);
    const { rows } = await this.pool.query<{ invite: Invite }>(
      `SELECT invite FROM invites WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT $${values.length}`, values,
    );
    const invites = rows.map((r) => r.invite);
    if (invites.length <= limit) return { invites };
    invites.pop();
    return invites.length ? { invites, next: cursorOf(invites.at(-1)!) } : { invites };
  }

  async withPendingUses(): Promise<Invite[]> {
    const { rows } = await this.pool.query<{ invite: Invite }>('SELECT invite FROM invites WHERE has_pending ORDER BY created_at, id');
    return rows.map((r) => r.invite);
  }

  // -------------------------------------------------------------------------
  // Writes

  /** Insert a new invite; resolves once committed. A duplicate id or token hash rejects and changes nothing. */
  async add(inv: Invite): Promise<void> {
    const params = COLUMNS.map((_, i) => `$${i + 1}`);
    try {
      await this.pool.query(`INSERT INTO invites (${COLUMNS.join(', ')}) VALUES (${params.join(', ')})`, columnsOf(inv));
      this.remember(inv, '1');
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw new Error(`invite ${inv.id} is already in the store (same id or token)`);
      throw e;
    }
  }

  /**
   * One transaction: the row is read with FOR UPDATE (so a change from any other
   * process waits for this one's commit, then reads what it wrote), `fn` runs on a
   * copy, and the new state is written and committed; resolves after the COMMIT.
   * Anything that fails (fn throwing, the write, the connection) rolls back. Changes to
   * one invite from this process also queue here, so they hold one connection, not
   * one each. Two round trips: "BEGIN; SELECT … FOR UPDATE", then "UPDATE …; COMMIT"
   * (or ROLLBACK when nothing is written), simple-protocol statements with escaped literals.
   * A connection lost during the COMMIT itself rejects, though the change may have been
   * made (the database alone knows): callers already treat a failed change as in doubt.
   */
  change<T>(id: string, fn: (draft: Invite) => Changed<T>): Promise<{ invite: Invite; value: T } | undefined> {
    return this.changing.run(id, async () => (await this.changeKnown(id, fn)) ?? this.changeNow({ id }, fn));
  }

  /**
   * The change as one autocommit statement, from the state this instance last saw:
   * it writes only if the row is still at that version. Undefined when it cannot be
   * decided so (nothing known, the row moved on, or fn wrote nothing: a refusal is
   * decided on the locked row, never on what may be stale).
   */
  private async changeKnown<T>(id: string, fn: (draft: Invite) => Changed<T>): Promise<{ invite: Invite; value: T } | undefined> {
    const k = this.known.get(id);
    if (!k) return undefined;
    const draft = structuredClone(k.invite);
    const { write, value } = fn(draft);
    if (!write || draft.id !== k.invite.id || draft.createdAt !== k.invite.createdAt || draft.createdBy !== k.invite.createdBy || draft.tokenHash !== k.invite.tokenHash) return undefined;
    const cols = columnsOf(draft);
    const set = COLUMNS.map((c, i) => (c === 'id' ? null : `${c} = $${i + 1}::${CASTS[i]}`)).filter(Boolean);
    const r = await this.pool.query(
      `UPDATE invites SET ${set.join(', ')}, version = version + 1 WHERE id = $1 AND version = $${COLUMNS.length + 1}`,
      [...cols, k.version],
    );
    if (r.rowCount !== 1) {
      this.known.delete(id);
      return undefined;
    }
    this.remember(draft, String(BigInt(k.version) + 1n));
    return { invite: draft, value };
  }

  changeByHash<T>(tokenHash: string, fn: (draft: Invite) => Changed<T>): Promise<{ invite: Invite; value: T } | undefined> {
    // Queued under the hash: changes by id and by hash of one invite meet only in the row lock.
    return this.changing.run(`hash ${tokenHash}`, async () => {
      const id = this.idOfHash.get(tokenHash);
      const quick = id ? await this.changing.run(id, () => this.changeKnown(id, fn)) : undefined;
      return quick ?? this.changeNow({ tokenHash }, fn);
    });
  }

  private async changeNow<T>(key: { id: string } | { tokenHash: string }, fn: (draft: Invite) => Changed<T>): Promise<{ invite: Invite; value: T } | undefined> {
    const client = await this.pool.connect();
    let open = false; // a transaction to roll back if anything fails
    let broken: Error | undefined;
    try {
      open = true;
      const results = (await client.query(
        `BEGIN; SELECT invite, version FROM invites WHERE ${'id' in key ? `id = ${client.escapeLiteral(key.id)}` : `token_hash = ${client.escapeLiteral(key.tokenHash)}`} FOR UPDATE`,
      )) as unknown as pg.QueryResult<{ invite: Invite; version: string }>[];
      const current = results[1]!.rows[0]?.invite;
      const version = results[1]!.rows[0]?.version;
      if (!current) {
        open = false;
        await client.query('ROLLBACK');
        return undefined;
      }
      const draft = structuredClone(current);
      const { write, value } = fn(draft);
      if (!write) {
        open = false;
        await client.query('ROLLBACK');
        this.remember(current, version!);
        return { invite: current, value };
      }
      if (draft.id !== current.id || draft.createdAt !== current.createdAt || draft.createdBy !== current.createdBy || draft.tokenHash !== current.tokenHash) {
        throw new Error(`invite ${current.id}: a change may not alter its id, creator, creation time or token`);
      }
      const cols = columnsOf(draft);
      const set = COLUMNS.map((c, i) => (c === 'id' ? null : `${c} = ${literal(client, cols[i]!, CASTS[i]!)}`)).filter(Boolean);
      await client.query(`UPDATE invites SET ${set.join(', ')}, version = version + 1 WHERE id = ${client.escapeLiteral(current.id)}; COMMIT`);
      open = false;
      // Locked since the read: the version is the next one.
      this.remember(draft, String(BigInt(version!) + 1n));
      return { invite: draft, value };
    } catch (e) {
      if (open) await client.query('ROLLBACK').catch((err: Error) => { broken = err; });
      throw e;
    } finally {
      // A connection whose rollback failed is closed, not reused.
      client.release(broken);
    }
  }

  async getDoc(name: DocName): Promise<unknown> {
    const { rows } = await this.pool.query<{ doc: unknown }>('SELECT doc FROM documents WHERE name = $1', [name]);
    const doc = rows[0]?.doc;
    return doc === null ? undefined : doc;
  }

  /** One transaction holding the document's row lock (made first if it is not there), as changeNow does for an invite. */
  changeDoc<T>(name: DocName, fn: (draft: unknown) => DocChanged<T>): Promise<T> {
    return this.changing.run(`doc ${name}`, async () => {
      const client = await this.pool.connect();
      let open = false;
      let broken: Error | undefined;
      try {
        open = true;
        await client.query('BEGIN');
        await client.query("INSERT INTO documents (name, doc) VALUES ($1, 'null'::jsonb) ON CONFLICT (name) DO NOTHING", [name]);
        const { rows } = await client.query<{ doc: unknown }>('SELECT doc FROM documents WHERE name = $1 FOR UPDATE', [name]);
        const current = rows[0]?.doc;
        const r = fn(current === null ? undefined : current);
        if (r.write) await client.query('UPDATE documents SET doc = $2::jsonb WHERE name = $1', [name, JSON.stringify(r.doc ?? null)]);
        await client.query('COMMIT');
        open = false;
        return r.value;
      } catch (e) {
        if (open) await client.query('ROLLBACK').catch((err: Error) => { broken = err; });
        throw e;
      } finally {
        client.release(broken);
      }
    });
  }

  /**
   * Move the invites `isEnded` picks into archived_invites. The live rows are read in
   * batches of 2,000 (in id order, no long transaction); each batch's ended ones are moved
   * by one statement (DELETE … RETURNING into INSERT) that takes their row locks and moves
   * a row only if its version is still the one judged: a row changed since, by any
   * instance, stays (it is judged again next time). Returns how many were moved.
   */
  archive(isEnded: (inv: Invite) => boolean): Promise<number> {
    this.archiving ??= this.runArchive(isEnded).finally(() => { this.archiving = null; });
    return this.archiving;
  }

  private async runArchive(isEnded: (inv: Invite) => boolean): Promise<number> {
    let moved = 0;
    let last = '';
    for (;;) {
      const { rows } = await this.pool.query<{ id: string; version: string; invite: Invite }>(
        'SELECT id, version, invite FROM invites WHERE id > $1 ORDER BY id LIMIT $2', [last, ARCHIVE_BATCH],
      );
      if (rows.length === 0) break;
      last = rows.at(-1)!.id;
      const ended = rows.filter((r) => isEnded(r.invite));
      if (ended.length) {
        const result = await this.pool.query(
          `WITH judged AS (SELECT * FROM unnest($1::text[], $2::bigint[]) AS j(id, version)),
                gone AS (DELETE FROM invites i USING judged j WHERE i.id = j.id AND i.version = j.version RETURNING i.id, i.invite)
           INSERT INTO archived_invites (id, archived_at, invite) SELECT id, now(), invite FROM gone`,
          [ended.map((r) => r.id), ended.map((r) => r.version)],
        );
        moved += result.rowCount ?? 0;
      }
      if (rows.length < ARCHIVE_BATCH) break;
    }
    return moved;
  }

  /**
   * Delete archived invites archived more than `keepDays` days before `now`. Returns a
   * description of what was dropped, for the log (['12 archived invites']), or [] when
   * nothing was: the same string[] contract as the lowdb store's file names.
   */
  async pruneArchives(keepDays: number, now: Date): Promise<string[]> {
    const cutoff = new Date(now.getTime() - keepDays * DAY_MS);
    const { rowCount } = await this.pool.query('DELETE FROM archived_invites WHERE archived_at < $1', [cutoff.toISOString()]);
    const n = rowCount ?? 0;
    return n ? [`${n} archived invite${n === 1 ? '' : 's'}`] : [];
  }

  /**
   * `invites`: exact (count(*)) while the planner estimates fewer than 100,000 live rows;
   * above that, the planner's estimate (pg_class.reltuples, kept by autovacuum and
   * ANALYZE), as an exact count of 10M rows takes seconds. `openSeconds`: the last open
   * (connection, migrations, roles).
   */
  async stats(): Promise<StoreStats> {
    const { rows } = await this.pool.query<{ estimate: number }>(
      "SELECT reltuples::float8 AS estimate FROM pg_class WHERE oid = 'invites'::regclass",
    );
    const estimate = rows[0]?.estimate ?? -1;
    let invites = Math.round(estimate);
    if (estimate < EXACT_COUNT_BELOW) {
      const counted = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM invites');
      invites = Number(counted.rows[0]!.n);
    }
    return { invites, openSeconds: this.openSeconds };
  }

  /** Every change resolves only once committed: this waits for those still running here. */
  async flush(): Promise<void> {
    await this.changing.settled();
    await this.archiving?.catch(() => {});
  }

  /** For tests: the roles listener's connection, to break it on purpose. */
  get listenerConnection(): pg.Client | undefined {
    return this.listener.connection;
  }

  /** Wait for the changes running here, then close the listener and the pool. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.flush();
      await this.listener.close();
      await this.pool.end();
    })();
    return this.closing;
  }
}

/** An answer from the server (a SQLSTATE: wrong password, no such database), not a network failure. */
function isServerError(e: unknown): boolean {
  return /^[0-9A-Z]{5}$/.test((e as { code?: string }).code ?? '') && !/^E[A-Z]/.test((e as { code?: string }).code ?? '');
}

/** A connection error in a few words: the error's code when it has one. */
function reasonOf(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const message = err.message?.split('\n')[0] ?? String(e);
  if (err.code && !message.includes(err.code)) return `${message} (${err.code})`;
  return message || String(err.code ?? e);
}

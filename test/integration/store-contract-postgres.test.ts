// The store contract (test/contract/store-contract.ts) on the PostgreSQL store, on a
// private LocalPostgres (one per mocha process, so the two runs of test/run.mts have
// their own), a fresh database per test; then what only a shared store has: other
// processes racing on one invite, roles kept fresh across instances, the listener
// and the pool surviving a server crash, migrations run once by instances started together.
import { execFile, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { expect } from 'chai';
import pg from 'pg';
import type { Invite } from '../../src/invites/types.js';
import { LocalPostgres } from '../../src/postgres/local-postgres.js';
import { PostgresStore, PostgresStoreOpenError, describeUrl } from '../../src/store/postgres/postgres-store.js';
import { MIGRATIONS_DIR, MIGRATIONS_TABLE } from '../../src/store/postgres/migrate.js';
import type { InviteStore } from '../../src/store/store.js';
import { makeInvite, storeContract } from '../contract/store-contract.js';
import { ROOT, TSX_LOADER, freshEnv } from '../helpers/scripts.js';

const execFileAsync = promisify(execFile);

/** Retry `check` (assertions) until it passes, or throw its last failure after `timeout` ms. */
async function eventually(check: () => unknown, { timeout = 5000 } = {}): Promise<void> {
  const until = Date.now() + timeout;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

function takeUse(jid: string) {
  return (d: Invite) => {
    if (d.uses.length >= d.maxUses) return { write: false, value: false };
    d.uses.push({ jid, at: new Date().toISOString() });
    return { write: true, value: true };
  };
}

async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A racer in its own process, with its own pool (test/helpers/postgres-racer.ts), ready to go. */
async function startRacer(url: string, id: string, n: number) {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, `${ROOT}test/helpers/postgres-racer.ts`, url, id, String(n)], {
    cwd: ROOT, env: freshEnv(), stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const lines = createInterface({ input: child.stdout! });
  const next = () => new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`racer exited (${code}): ${err}`)));
  });
  expect(await next()).to.equal('ready');
  return {
    go: async () => {
      const result = next();
      child.stdin!.write('go\n');
      const { wins } = JSON.parse(await result) as { wins: number };
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
      return wins;
    },
  };
}

describe('PostgreSQL store', () => {
  let server: LocalPostgres;

  before(async function () {
    this.timeout(120_000);
    server = await LocalPostgres.start({ fsync: false });
  });
  after(async function () {
    this.timeout(30_000);
    await server?.stop();
  });

  storeContract('postgres', async () => {
    const url = await server.createDatabase();
    let store: InviteStore = await PostgresStore.open(url);
    return {
      store,
      async reopen() {
        await store.close();
        store = await PostgresStore.open(url);
        return store;
      },
      async cleanup() {
        await store.close().catch(() => {});
      },
    };
  });

  describe('several instances on one database', function () {
    this.timeout(60_000);
    const opened: PostgresStore[] = [];
    let url: string;

    beforeEach(async () => {
      url = await server.createDatabase();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close().catch(() => {})));
    });

    async function open(): Promise<PostgresStore> {
      const s = await PostgresStore.open(url);
      opened.push(s);
      return s;
    }

    it('2 × 50 "take the last use" of one single-use invite, here and in another process: exactly one wins', async () => {
      const here = await open();
      for (let round = 0; round < 3; round++) {
        const inv = makeInvite(round);
        await here.add(inv);
        const racer = await startRacer(url, inv.id, 50);
        const theirs = racer.go();
        const mine = await Promise.all(Array.from({ length: 50 }, (_, i) => here.change(inv.id, takeUse(`here${i}@example.org`))));
        const wins = mine.filter((r) => r?.value === true).length + (await theirs);
        expect(wins, `round ${round}`).to.equal(1);
        expect((await here.get(inv.id))!.uses).to.have.length(1);
      }
    });

    it('two pools in one process: 2 × 50 changes of a 100-use invite, none lost', async () => {
      const [a, b] = [await open(), await open()];
      const inv = makeInvite(1, { maxUses: 100 });
      await a.add(inv);
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).change(inv.id, takeUse(`u${i}@example.org`))));
      expect(results.every((r) => r?.value === true)).to.equal(true);
      expect((await b.get(inv.id))!.uses).to.have.length(100);
    });

    it('a role granted by one instance, or by hand in SQL, reaches the others\' memory', async () => {
      const [a, b] = [await open(), await open()];
      await a.grantRoles('new@example.org', ['admin']);
      await eventually(() => expect(b.roles('new@example.org')).to.deep.equal(['admin']));
      expect(b.anyoneWithRole('admin')).to.equal(true);
      await sql(url, "INSERT INTO roles (jid, role) VALUES ('ops@example.org', 'member')");
      await eventually(() => expect(a.roles('ops@example.org')).to.deep.equal(['member']));
      await eventually(() => expect(b.roles('ops@example.org')).to.deep.equal(['member']));
      await sql(url, "DELETE FROM roles WHERE jid = 'new@example.org'");
      await eventually(() => expect(b.anyoneWithRole('admin')).to.equal(false));
      await sql(url, 'TRUNCATE roles');
      await eventually(() => expect(a.roles('ops@example.org')).to.deep.equal([]));
    });

    it('a listener whose connection is cut reconnects and catches up with what it missed', async () => {
      const [a, b] = [await open(), await open()];
      const pid = await (async () => {
        const [row] = await sql<{ pid: number }>(url, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid() ORDER BY backend_start DESC LIMIT 1");
        return row!.pid;
      })();
      // b's listener is the newest one.
      await sql(url, 'SELECT pg_terminate_backend($1)', [pid]);
      await a.grantRoles('missed@example.org', ['admin']);
      await eventually(() => expect(b.roles('missed@example.org')).to.deep.equal(['admin']), { timeout: 10_000 });
      await a.grantRoles('after@example.org', ['member']);
      await eventually(() => expect(b.roles('after@example.org')).to.deep.equal(['member']), { timeout: 10_000 });
    });

    it('archive leaves a row that another instance changed after it was read (the version check)', async () => {
      const a = await open();
      const inv = makeInvite(1, { revokedAt: new Date().toISOString() });
      await a.add(inv);
      // Another session holds the row's lock with a change not committed yet.
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      try {
        await other.query('BEGIN');
        await other.query("UPDATE invites SET invite = invite - 'revokedAt', revoked_at = NULL, version = version + 1 WHERE id = $1", [inv.id]);
        const archiving = a.archive(() => true);
        // The archive's DELETE waits for that lock…
        await eventually(async () => {
          const rows = await sql(url, "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%DELETE FROM invites%'");
          expect(rows).to.have.length(1);
        });
        await other.query('COMMIT');
        // …then finds the row changed since it judged it, and leaves it.
        expect(await archiving).to.equal(0);
      } finally {
        await other.end();
      }
      const now = await a.get(inv.id);
      expect(now?.revokedAt).to.equal(undefined);
      expect(await sql(url, 'SELECT id FROM archived_invites')).to.deep.equal([]);
    });

    it('instances started at once apply the migrations once, one after another', async () => {
      const stores = await Promise.all(Array.from({ length: 4 }, () => open()));
      expect(stores).to.have.length(4);
      const rows = await sql<{ name: string }>(url, `SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`);
      const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort().map((f) => f.replace(/\.sql$/, ''));
      expect(files[0]).to.equal('0001_invites');
      expect(rows.map((r) => r.name)).to.deep.equal(files);
    });

    it('npm run migrate applies the schema by hand, and open then has nothing to do', async () => {
      const { stdout } = await execFileAsync('npm', ['run', '--silent', 'migrate'], { cwd: ROOT, env: { ...freshEnv(), STORE_URL: url } });
      expect(stdout).to.match(/0001_invites/);
      const s = await open();
      await s.add(makeInvite(1));
      expect((await s.stats()).invites).to.equal(1);
      const again = await execFileAsync('npm', ['run', '--silent', 'migrate'], { cwd: ROOT, env: { ...freshEnv(), STORE_URL: url } });
      expect(again.stdout).to.match(/No migrations to run/);
    });

    it('a database that cannot be reached, or refuses us, fails the open in one sentence naming host and database, not the password', async () => {
      const closed = url.replace(`:${server.port}/`, ':1/');
      const e1 = await PostgresStore.open(closed, { connectTimeoutMs: 3000 }).then(() => undefined, (e: Error) => e);
      expect(e1).to.be.instanceOf(PostgresStoreOpenError);
      expect(e1!.message).to.match(new RegExp(`^STORE_URL: the PostgreSQL database 127\\.0\\.0\\.1:1/db_\\w+ could not be reached: .*ECONNREFUSED`));
      expect(e1!.message).to.not.include(server.password);
      const wrong = url.replace(server.password, 'Wrong-Pa55word');
      const e2 = await PostgresStore.open(wrong).then(() => undefined, (e: Error) => e);
      expect(e2!.message).to.match(/^STORE_URL: the PostgreSQL database 127\.0\.0\.1:\d+\/db_\w+ refused the connection: password authentication failed/);
      expect(e2!.message).to.not.include('Wrong-Pa55word');
      expect(describeUrl(url)).to.not.include(server.password);
    });
  });

  describe('the server crashes and comes back', function () {
    this.timeout(120_000);
    let own: LocalPostgres;
    before(async () => {
      // fsync on: with it off LocalPostgres also turns synchronous_commit off, and a kill -9
      // then loses the last commits (they were still in the WAL buffers).
      own = await LocalPostgres.start();
    });
    after(async () => {
      await own?.stop();
    });

    it('acknowledged changes survive kill -9; the pool and the roles listener recover by themselves', async () => {
      const url = await own.createDatabase();
      const [a, b] = [await PostgresStore.open(url), await PostgresStore.open(url)];
      try {
        const inv = makeInvite(1, { maxUses: 5 });
        await a.add(inv);
        await a.change(inv.id, takeUse('before@example.org'));
        await own.kill9();
        // Meanwhile reads fail (and are retried by the caller); nothing hangs for ever.
        const failed = await a.get(inv.id).then(() => false, () => true);
        expect(failed).to.equal(true);
        await own.restart();
        await eventually(async () => expect((await b.get(inv.id))!.uses.map((u) => u.jid)).to.deep.equal(['before@example.org']), { timeout: 10_000 });
        expect((await a.change(inv.id, takeUse('after@example.org')))?.value).to.equal(true);
        await a.grantRoles('back@example.org', ['admin']);
        await eventually(() => expect(b.roles('back@example.org')).to.deep.equal(['admin']), { timeout: 15_000 });
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });
});

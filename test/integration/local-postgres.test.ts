import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import {
  LocalPostgres, PostgresNotInstalledError, postgresBinDir, postgresInstalled,
} from '../../src/postgres/local-postgres.js';
import { freePorts } from '../../src/server/free-port.js';
import { ROOT, spawnScript } from '../helpers/scripts.js';

/** Running, not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Real and effective uid of a process; undefined once it is gone. */
function uids(pid: number): number[] | undefined {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const line = status.split('\n').find((l) => l.startsWith('Uid:'))!;
  return line.split(/\s+/).slice(1, 3).map(Number);
}

async function gone(pids: number[], ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (pids.some(alive)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe('LocalPostgres', function () {
  this.timeout(60000);

  it('finds PostgreSQL installed (the PostgreSQL tests need it; never skipped)', () => {
    expect(postgresInstalled(), 'bash scripts/setup.sh installs postgresql').to.equal(true);
    expect(postgresBinDir()).to.match(/\/bin$/);
    expect(postgresBinDir({ POSTGRES_BIN_DIR: '/opt/pg/bin' })).to.equal('/opt/pg/bin');
  });

  describe('lifecycle', () => {
    let server: LocalPostgres;
    let startMs: number;

    before(async () => {
      const t = Date.now();
      server = await LocalPostgres.start();
      startMs = Date.now() - t;
    });

    after(async () => {
      await server?.stop();
    });

    it('accepts connections on its URL: loopback TCP, with a password', async () => {
      expect(server.pid).to.be.a('number');
      expect(server.url).to.equal(`postgresql://postgres:${server.password}@127.0.0.1:${server.port}/invites`);
      const [row] = await query<{ v: string; listen: string; db: string }>(
        server.url, "SELECT version() AS v, current_setting('listen_addresses') AS listen, current_database() AS db",
      );
      expect(row!.v).to.match(/^PostgreSQL \d+/);
      expect(row!.listen).to.equal('127.0.0.1');
      expect(row!.db).to.equal('invites');
      const wrong = server.url.replace(server.password, 'not-the-password');
      const err = await query(wrong, 'SELECT 1').then(() => undefined, (e: Error) => e);
      expect(err?.message).to.match(/password authentication failed/);
      process.stdout.write(`      (started in ${startMs} ms)\n`);
    });

    it('stores and reads rows, in UTF-8', async () => {
      await query(server.url, 'CREATE TABLE t (id serial PRIMARY KEY, name text NOT NULL)');
      await query(server.url, 'INSERT INTO t (name) VALUES ($1), ($2)', ['alice', 'ünïcödé ✓']);
      const rows = await query<{ name: string }>(server.url, 'SELECT name FROM t ORDER BY id');
      expect(rows.map((r) => r.name)).to.deep.equal(['alice', 'ünïcödé ✓']);
      const [enc] = await query<{ server_encoding: string }>(server.url, 'SHOW server_encoding');
      expect(enc!.server_encoding).to.equal('UTF8');
    });

    it('creates fresh, empty databases', async () => {
      const url = await server.createDatabase();
      const again = await server.createDatabase();
      expect(url).to.not.equal(again);
      const rows = await query(url, "SELECT 1 FROM pg_tables WHERE schemaname = 'public'");
      expect(rows).to.have.length(0);
      const named = await server.createDatabase('named "db"');
      expect(named).to.equal(server.urlFor('named "db"'));
      const [row] = await query<{ db: string }>(named, 'SELECT current_database() AS db');
      expect(row!.db).to.equal('named "db"');
      await server.dropDatabase('named "db"');
    });

    it('runs as the postgres system user when we are root, else as ourselves', () => {
      const pids = server.pids();
      // The postmaster and its background processes (checkpointer, walwriter, ...).
      expect(pids.length).to.be.greaterThan(2);
      const expected = process.getuid!() === 0
        ? Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
        : process.getuid!();
      // A backend of an earlier test's connection may end meanwhile: check those still there.
      const seen = pids.map((pid) => [pid, uids(pid)] as const).filter(([, u]) => u !== undefined);
      expect(seen.length).to.be.greaterThan(2);
      expect(seen[0]![0]).to.equal(server.pid);
      for (const [pid, u] of seen) expect(u, `uids of ${pid}`).to.deep.equal([expected, expected]);
      expect(fs.readFileSync(`/proc/${server.pid}/cmdline`, 'utf8').split('\0')[0]).to.match(/\/postgres$/);
      expect(fs.statSync(server.dataDir).uid).to.equal(expected);
    });

    it('keeps committed rows through kill9() and restart() (crash recovery)', async () => {
      await query(server.url, 'CREATE TABLE crash (n int)');
      await query(server.url, 'INSERT INTO crash VALUES (1), (2), (3)');
      const before = server.pids();
      const client = new pg.Client({ connectionString: server.url });
      client.on('error', () => {});
      await client.connect();
      await server.kill9();
      expect(server.pid).to.equal(undefined);
      expect(await gone(before, 2000), 'every postgres process gone after kill9').to.equal(true);
      const lost = await client.query('SELECT 1').then(() => undefined, (e: Error) => e);
      expect(lost).to.be.instanceOf(Error);
      await server.restart();
      const rows = await query<{ n: number }>(server.url, 'SELECT n FROM crash ORDER BY n');
      expect(rows.map((r) => r.n)).to.deep.equal([1, 2, 3]);
      expect(await server.logTail(100)).to.match(/not properly shut down; automatic recovery in progress/);
    });

    it('stops: every process gone, the temp dir removed', async () => {
      const pids = server.pids();
      const { dir } = server;
      const t = Date.now();
      await server.stop();
      process.stdout.write(`      (stopped in ${Date.now() - t} ms)\n`);
      expect(server.pid).to.equal(undefined);
      expect(await gone(pids, 2000)).to.equal(true);
      expect(fs.existsSync(dir)).to.equal(false);
      await server.stop(); // idempotent
    });
  });

  it('runs two instances side by side, each with its own port, dir and data', async () => {
    const [a, b] = await Promise.all([LocalPostgres.start(), LocalPostgres.start({ fsync: false })]);
    try {
      expect(a.port).to.not.equal(b.port);
      expect(a.dir).to.not.equal(b.dir);
      expect(a.pid).to.not.equal(b.pid);
      await query(a.url, 'CREATE TABLE only_a (x int)');
      const inB = await query(b.url, "SELECT 1 FROM pg_tables WHERE tablename = 'only_a'");
      expect(inB).to.have.length(0);
      const [fsyncA] = await query<{ fsync: string }>(a.url, 'SHOW fsync');
      const [fsyncB] = await query<{ fsync: string }>(b.url, 'SHOW fsync');
      expect([fsyncA!.fsync, fsyncB!.fsync]).to.deep.equal(['on', 'off']);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect(fs.existsSync(a.dir) || fs.existsSync(b.dir)).to.equal(false);
  });

  it('keeps the data of a given dir across stop and start', async () => {
    const dir = fs.mkdtempSync('/tmp/local-postgres-test-');
    try {
      const first = await LocalPostgres.start({ dir });
      await query(first.url, 'CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)');
      await first.stop();
      expect(fs.existsSync(`${dir}/data/PG_VERSION`)).to.equal(true);
      const second = await LocalPostgres.start({ dir });
      try {
        expect(second.password).to.equal(first.password);
        expect(await query(second.url, 'SELECT x FROM kept')).to.deep.equal([{ x: 42 }]);
      } finally {
        await second.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with a clear sentence and the log tail when its port is taken', async () => {
    const [port] = await freePorts(1);
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const err = await LocalPostgres.start({ port }).then(
        (s) => s.stop().then(() => undefined),
        (e: Error) => e,
      );
      expect(err?.message).to.match(new RegExp(`^PostgreSQL failed to start: port ${port} is already in use\\n--- .*postgres\\.log \\(last lines\\) ---\\n`));
      expect(err?.message).to.match(/Address already in use/);
      const dir = /--- (.*)\/postgres\.log/.exec(err!.message)![1]!;
      expect(fs.existsSync(dir), 'temp dir removed after a failed start').to.equal(false);
    } finally {
      blocker.close();
    }
  });

  it('says how to install it when the binaries are missing', async () => {
    const err = await LocalPostgres.start({ binDir: '/nonexistent/bin' }).then(() => undefined, (e: Error) => e);
    expect(err).to.be.instanceOf(PostgresNotInstalledError);
    expect(err?.message).to.match(/not installed in \/nonexistent\/bin .*scripts\/setup\.sh/);
  });

  describe('never outlives Node', () => {
    let tmp: string;
    beforeEach(() => {
      // The holder's temp dirs (its server's and its initdb template) go here, removed after.
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'local-postgres-holder-'));
      fs.chmodSync(tmp, 0o755);
    });
    afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

    async function startHolder(mode: 'hold' | 'exit') {
      const child = spawnScript('test/helpers/postgres-holder.ts', [mode], { cwd: ROOT, vars: { TMPDIR: tmp } });
      let out = '';
      let err = '';
      child.stderr!.on('data', (d) => (err += d));
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', (d) => {
          out += d;
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        child.once('exit', (code) => reject(new Error(`holder exited (${code}): ${err}`)));
      });
      const exited = new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
      return { child, exited, info: JSON.parse(line) as { pid: number; pids: number[]; dir: string } };
    }

    it('an exit without stop() kills it and removes its dir', async () => {
      const { exited, info } = await startHolder('exit');
      await exited;
      expect(await gone(info.pids, 3000)).to.equal(true);
      expect(info.dir.startsWith(tmp)).to.equal(true);
      // Its server's dir and its initdb template both removed.
      expect(fs.readdirSync(tmp).filter((f) => f.startsWith('xmpp-invites-postgres'))).to.deep.equal([]);
    });

    it('Node killed by SIGKILL: the kernel stops it (parent-death signal)', async () => {
      const { child, exited, info } = await startHolder('hold');
      expect(alive(info.pid)).to.equal(true);
      child.kill('SIGKILL');
      await exited;
      expect(await gone(info.pids, 10000), 'postgres processes gone').to.equal(true);
      // Nothing in Node ran to remove its dirs: afterEach does.
    });
  });
});

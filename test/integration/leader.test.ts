// Leader election on a real PostgreSQL (a private server started here): one leader
// at a time, a waiting instance takes over when the leader stops, is killed -9, or
// loses its database session; and the deposed leader says so.
import type { ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import pg from 'pg';
import { PostgresLeader, leaderLockName } from '../../src/leader.js';
import { LocalPostgres } from '../../src/postgres/local-postgres.js';
import { eventually } from '../helpers/eventually.js';
import { ROOT, spawnScript } from '../helpers/scripts.js';

const POLL = 200;

describe('leader election (real PostgreSQL)', function () {
  this.timeout(60_000);
  let server: LocalPostgres;
  let url: string;
  const leaders: PostgresLeader[] = [];
  const children: ChildProcess[] = [];

  before(async () => {
    server = await LocalPostgres.start();
  });
  beforeEach(async () => {
    url = await server.createDatabase();
  });
  afterEach(async () => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    await Promise.all(leaders.splice(0).map((l) => l.stop()));
  });
  after(() => server?.stop());

  function leader(domain = 'example.org'): PostgresLeader {
    const l = new PostgresLeader(url, leaderLockName(domain), { pollMs: POLL });
    leaders.push(l);
    return l;
  }

  it('elects exactly one of three, and another within a poll or two once it stops', async () => {
    const [a, b, c] = [leader(), leader(), leader()];
    await Promise.all([a.start(), b.start(), c.start()]);
    expect([a, b, c].filter((l) => l.leading)).to.have.length(1);
    const first = [a, b, c].find((l) => l.leading)!;
    const deposed = new Promise((r) => first.once('deposed', r));
    const stoppedAt = Date.now();
    await first.stop();
    await deposed;
    const rest = [a, b, c].filter((l) => l !== first);
    expect(await eventually(async () => rest.filter((l) => l.leading).length, (n) => n === 1)).to.equal(1);
    expect(Date.now() - stoppedAt).to.be.below(POLL * 5);
  });

  it('tells whether another instance still runs: alive while it does, gone once it stopped', async () => {
    const [a, b] = [leader(), leader()];
    await Promise.all([a.start(), b.start()]);
    expect(await a.alive(b.instanceId)).to.equal(true);
    expect(await a.alive(a.instanceId)).to.equal(true);
    await b.stop();
    expect(await a.alive(b.instanceId)).to.equal(false);
    // Asking took its lock only for a moment: asking again says the same.
    expect(await a.alive(b.instanceId)).to.equal(false);
  });

  it('one leader per domain: two deployments on one database each have theirs', async () => {
    const [a, b] = [leader('one.example'), leader('two.example')];
    await Promise.all([a.start(), b.start()]);
    expect(a.leading && b.leading).to.equal(true);
  });

  it('takes over from a leader killed -9 (its session ends with it)', async () => {
    const child = spawnScript('test/helpers/leader-holder.ts', [url], { cwd: ROOT });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    expect(await eventually(async () => out, (o) => o.includes('elected'), 15_000)).to.include('elected');
    const waiting = leader();
    await waiting.start();
    expect(waiting.leading, 'the child leads').to.equal(false);
    const killedAt = Date.now();
    child.kill('SIGKILL');
    expect(await eventually(async () => waiting.leading, (l) => l)).to.equal(true);
    expect(Date.now() - killedAt).to.be.below(POLL * 10);
  });

  it('steps down when its database session is cut, and a waiting instance leads', async () => {
    const [a, b] = [leader(), leader()];
    await a.start();
    await b.start();
    expect(a.leading).to.equal(true);
    const deposed = new Promise((r) => a.once('deposed', r));
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    // The leader's own session, as an administrator (or a failover) would end it.
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`);
    await admin.end();
    await deposed;
    expect(a.leading).to.equal(false);
    expect(await eventually(async () => a.leading !== b.leading, (x) => x), 'exactly one leads again').to.equal(true);
  });
});

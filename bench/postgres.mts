// Benchmark 5 (issue 15): the PostgreSQL store against the lowdb store.
// (a) Registration-path throughput: reserve + commit through the real InviteService,
//     on each store, the same workload (a single-use token per registration, CONCURRENCY
//     registrations in flight, as a burst of new accounts arrives), in interleaved rounds
//     (lowdb, PostgreSQL, lowdb, ...) so drift on the machine falls on both.
//     lowdb in a temp dir with its defaults (no fsync: survives a killed process, not a
//     power cut); PostgreSQL on a LocalPostgres with its defaults (fsync and
//     synchronous_commit on: survives a power cut), over TCP on 127.0.0.1.
// (b) Two service instances, each with its own PostgresStore (its own pool), race 2 × 50
//     registrations on one single-use token: exactly one account may come of it.
// (c) Registrations as a person makes them, the target's measure: in-band through a real
//     Prosody (fresh connection, XEP-0445 preauth, XEP-0077 register), the bridge and the
//     component, against a whole service on each store, two stacks side by side, waves
//     interleaved. Prosody hashes passwords at its default iteration count, as deployed.
//     (a) shows the store alone; (c) is what the issue's throughput target judges.
// Run alone: npx tsx bench/postgres.mts [--registrations 4000] [--rounds 4] [--concurrency 32]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type InviteSettings, InviteService } from '../src/invites/service.js';
import { hashToken } from '../src/invites/tokens.js';
import type { Actor } from '../src/invites/types.js';
import { LocalPostgres } from '../src/postgres/local-postgres.js';
import { LowdbStore } from '../src/store/lowdb/lowdb-store.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import type { InviteStore } from '../src/store/store.js';
import { type Stack, startStack } from '../test/helpers/stack.js';
import { timedRegistration } from './lib/ibr-client.js';
import { type BenchReport, type Target, formatReport, ms, now, percentile, pool, table } from './lib/stats.js';

export interface PostgresBenchOptions {
  /** Registrations per store, over all rounds (at least 2,000). */
  registrations?: number;
  rounds?: number;
  /** Registrations in flight at once. */
  concurrency?: number;
  /** Single-use tokens raced 2 × 50. */
  races?: number;
  /** LocalPostgres with fsync (and synchronous_commit, full_page_writes) off: the cost of the disk flushes. Default false. */
  noFsync?: boolean;
  /** The PostgresStore's pool size. Default 10 (the store's default). */
  poolSize?: number;
  /** (c): in-band registrations per store, and at once. */
  inBand?: number;
  inBandWidth?: number;
}

const DOMAIN = 'example.org';
const ADMIN = { jid: `admin@${DOMAIN}` };
const SETTINGS: InviteSettings = {
  domain: DOMAIN, admins: [ADMIN.jid], allowUserInvites: false, allowContactInvites: true,
  maxInvitesPerUser: 10, inviteExpiry: 7 * 86400, resetExpiry: 86400,
};
const WARM_UP = 200;

let userSerial = 0;
const username = () => `u${process.pid}x${++userSerial}`;

async function mint(service: InviteService, n: number, actor: Actor = ADMIN): Promise<string[]> {
  const tokens: string[] = [];
  const made = await pool(16, Array.from({ length: n }, () => async () => {
    const c = await service.create(actor, { kind: 'account' });
    if (!c.ok) throw new Error(c.message);
    return c.token;
  }));
  for (const r of made) {
    if (r.status === 'rejected') throw r.reason;
    tokens.push(r.value);
  }
  return tokens;
}

/** One registration as the bridge makes it: the hold (durable), then the commit once the server made the account. */
async function register(service: InviteService, token: string): Promise<number> {
  const t = now();
  const user = username();
  const r = await service.reserve(token, { purpose: 'register', username: user, accountExists: false });
  if (!r.ok) throw new Error(`reserve: ${r.message}`);
  const done = await service.commit(r.reservation, `${user}@${DOMAIN}`);
  if (!done.ok) throw new Error(`commit: ${done.message}`);
  return now() - t;
}

interface Side {
  name: string;
  store: InviteStore;
  service: InviteService;
  /** Registrations per second, per round. */
  rates: number[];
  latencies: number[];
}

/** `n` registrations, `concurrency` in flight; tokens minted first, not timed. Returns registrations per second. */
async function round(side: Side, n: number, concurrency: number): Promise<number> {
  const tokens = await mint(side.service, n);
  const t0 = now();
  const results = await pool(concurrency, tokens.map((token) => () => register(side.service, token)));
  const elapsed = now() - t0;
  for (const r of results) {
    if (r.status === 'rejected') throw r.reason;
    side.latencies.push(r.value);
  }
  return (n / elapsed) * 1000;
}

const median = (xs: number[]) => percentile(xs, 0.5);

/** (c): waves of in-band registrations on two whole stacks (lowdb, PostgreSQL at `url`), interleaved. */
async function inBand(url: string, opts: PostgresBenchOptions): Promise<{ lines: string[]; target: Target }> {
  const total = opts.inBand ?? 400;
  const width = opts.inBandWidth ?? 20;
  const stacks: { name: string; stack: Stack; rates: number[]; latencies: number[] }[] = [];
  try {
    // fastLogins off: Prosody's own default iteration count, the cost a real server pays.
    for (const [name, env] of [['lowdb', {}], ['PostgreSQL', { STORE_URL: url }]] as const) {
      stacks.push({ name, stack: await startStack(env, { prosody: { fastLogins: false } }), rates: [], latencies: [] });
    }
    let serial = 0;
    const wave = async (s: (typeof stacks)[number], n: number, timed: boolean) => {
      const tokens = await mint(s.stack.app.service, n, { system: 'cli' });
      const t0 = now();
      const done = await Promise.all(tokens.map((token) => timedRegistration(s.stack.server.service, 'localhost', { token, username: `e2e${++serial}`, password: 'bench-password-1' })));
      const elapsed = now() - t0;
      if (timed) {
        s.rates.push((n / elapsed) * 1000);
        s.latencies.push(...done.map((d) => d.total));
      }
    };
    for (const s of stacks) await wave(s, width, false);
    for (let w = 0; w < Math.ceil(total / width); w++) {
      for (const s of w % 2 ? [...stacks].reverse() : stacks) await wave(s, width, true);
    }
  } finally {
    for (const s of stacks) await s.stack.stop().catch(() => {});
  }
  const [low, pgs] = stacks as [(typeof stacks)[number], (typeof stacks)[number]];
  const ratio = median(pgs.rates) / median(low.rates);
  return {
    lines: [
      `In-band registrations through Prosody (preauth + register on a fresh connection; Prosody's default password hashing), a whole service on each store, two stacks side by side: ${total} per store in waves of ${width} at once, interleaved, after one unmeasured wave.`,
      '',
      ...table([
        ['store', 'registrations/s, median of waves', 'latency p50 ms', 'p99 ms'],
        ...stacks.map((s) => [s.name, median(s.rates).toFixed(1), ms(percentile(s.latencies, 0.5)), ms(percentile(s.latencies, 0.99))]),
      ]),
      '',
      `PostgreSQL / lowdb: ${ratio.toFixed(2)}×`,
    ],
    target: {
      bench: '5', what: "PostgreSQL registration throughput ≥ 0.9× lowdb's (in-band, through Prosody)", target: '≥ 0.90×',
      measured: `${ratio.toFixed(2)}× (${median(pgs.rates).toFixed(1)} vs ${median(low.rates).toFixed(1)} registrations/s)`, pass: ratio >= 0.9,
    },
  };
}

export async function run(opts: PostgresBenchOptions = {}): Promise<BenchReport> {
  const registrations = Math.max(2000, opts.registrations ?? 4000);
  const rounds = Math.max(2, opts.rounds ?? 4);
  const concurrency = opts.concurrency ?? 32;
  const races = opts.races ?? 5;
  const perRound = Math.ceil(registrations / rounds);
  const lines: string[] = [];
  const targets: Target[] = [];

  const dir = await mkdtemp(join(tmpdir(), 'bench-postgres-'));
  const server = await LocalPostgres.start({ fsync: !opts.noFsync });
  const closers: (() => Promise<void>)[] = [];
  try {
    const lowdbStore = await LowdbStore.open(join(dir, 'invites.json'));
    closers.push(() => lowdbStore.close());
    const url = await server.createDatabase();
    const pgStore = await PostgresStore.open(url, { max: opts.poolSize ?? 10 });
    closers.push(() => pgStore.close());
    const sides: Side[] = [
      { name: 'lowdb', store: lowdbStore, service: new InviteService(lowdbStore, SETTINGS), rates: [], latencies: [] },
      { name: 'PostgreSQL', store: pgStore, service: new InviteService(pgStore, SETTINGS), rates: [], latencies: [] },
    ];
    for (const s of sides) closers.push(async () => s.service.close());

    // Warm-up, not measured: compiled code paths, the pool's connections, PostgreSQL's caches.
    for (const s of sides) {
      await round(s, WARM_UP, concurrency);
      s.latencies.length = 0;
    }
    for (let r = 0; r < rounds; r++) {
      // Interleaved, and which store goes first alternates.
      for (const s of r % 2 ? [...sides].reverse() : sides) s.rates.push(await round(s, perRound, concurrency));
    }
    const [low, pgSide] = sides as [Side, Side];
    const ratio = median(pgSide.rates) / median(low.rates);
    lines.push(
      `Registrations (reserve + commit through InviteService), ${perRound} per round × ${rounds} rounds per store, interleaved, ${concurrency} in flight, after ${WARM_UP} unmeasured.`,
      `lowdb: temp dir, defaults (write() per change, no fsync). PostgreSQL on LocalPostgres: ${opts.noFsync ? 'fsync, synchronous_commit and full_page_writes OFF (--no-fsync)' : 'defaults (fsync, synchronous_commit on)'}, TCP 127.0.0.1, pool of ${opts.poolSize ?? 10}.`,
      '',
      ...table([
        ['store', 'registrations/s, median', 'per round', 'latency p50 ms', 'p99 ms'],
        ...sides.map((s) => [s.name, s.rates.length ? median(s.rates).toFixed(0) : 'n/a', s.rates.map((x) => x.toFixed(0)).join(' '), ms(percentile(s.latencies, 0.5)), ms(percentile(s.latencies, 0.99))]),
      ]),
      '',
      `PostgreSQL / lowdb: ${ratio.toFixed(2)}×`,
    );
    targets.push({
      bench: '5', what: 'store path alone (reserve + commit, no server): PostgreSQL ≥ 0.9× lowdb', target: '≥ 0.90×',
      measured: `${ratio.toFixed(2)}× (${median(pgSide.rates).toFixed(0)} vs ${median(low.rates).toFixed(0)} registrations/s)`, pass: ratio >= 0.9,
    });

    // (c) In-band registrations through Prosody, a whole service on each store.
    const e2e = await inBand(await server.createDatabase(), opts);
    lines.push('', ...e2e.lines);
    targets.push(e2e.target);

    // (b) Two instances, each its own store and pool, racing on single-use tokens.
    const other = await PostgresStore.open(url);
    closers.push(() => other.close());
    const instances = [pgSide.service, new InviteService(other, SETTINGS)];
    closers.push(async () => instances[1]!.close());
    const raceRows: string[][] = [['token', 'reservations', 'accounts', 'uses stored', 'refusals', 'elapsed ms']];
    let worst = -1;
    let fewest = Infinity;
    for (let k = 0; k < races; k++) {
      const [token] = await mint(instances[0]!, 1);
      const t0 = now();
      const attempts = Array.from({ length: 100 }, (_, i) => (async () => {
        const service = instances[i % 2]!;
        const user = username();
        const r = await service.reserve(token!, { purpose: 'register', username: user, accountExists: false });
        if (!r.ok) return { held: false, made: false, refusal: r.code };
        const done = await service.commit(r.reservation, `${user}@${DOMAIN}`);
        return { held: true, made: done.ok, refusal: done.ok ? undefined : done.code };
      })());
      const outcomes = await Promise.all(attempts);
      const elapsed = now() - t0;
      const made = outcomes.filter((o) => o.made).length;
      // Read through the other instance: what the database holds, not one process's view.
      const found = await other.findByHash(hashToken(token!));
      const refusals = new Map<string, number>();
      for (const o of outcomes) if (o.refusal) refusals.set(o.refusal, (refusals.get(o.refusal) ?? 0) + 1);
      worst = Math.max(worst, made, found!.uses.length);
      fewest = Math.min(fewest, made);
      raceRows.push([`#${k + 1}`, String(outcomes.filter((o) => o.held).length), String(made), String(found!.uses.length),
        [...refusals].map(([c, n]) => `${n}× ${c}`).join(', '), ms(elapsed)]);
    }
    lines.push('', `Two instances (two PostgresStores, two pools, one database), 2 × 50 registrations at once on one single-use token, ${races} tokens:`, '', ...table(raceRows, 'lrrrlr'));
    targets.push({
      bench: '5', what: '2 × 50 registrations on one single-use token, two instances on PostgreSQL: accounts', target: '1',
      measured: `${fewest === worst ? worst : `${fewest}–${worst}`} (${races} tokens)`, pass: worst === 1 && fewest === 1,
    });
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return { title: '5. PostgreSQL store', lines, targets };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: {
    registrations: { type: 'string' }, rounds: { type: 'string' }, concurrency: { type: 'string' }, races: { type: 'string' },
    'no-fsync': { type: 'boolean' }, pool: { type: 'string' }, 'in-band': { type: 'string' },
  } });
  const r = await run({
    registrations: values.registrations ? Number(values.registrations) : undefined,
    rounds: values.rounds ? Number(values.rounds) : undefined,
    concurrency: values.concurrency ? Number(values.concurrency) : undefined,
    races: values.races ? Number(values.races) : undefined,
    noFsync: values['no-fsync'],
    poolSize: values.pool ? Number(values.pool) : undefined,
    inBand: values['in-band'] ? Number(values['in-band']) : undefined,
  });
  console.log(formatReport(r));
}

// Benchmark 3 (issue 15): the lowdb store at scale. At 10k, 100k and 1M pending
// invites: cold start (open: snapshot read, journal replay, indexes), RSS (peak and
// after a GC), the longest event-loop stall during the start, a page of a list from
// random cursors (every creator's, and one creator's) p99, and the slowest create;
// then a store of 10M invites must start. Each start runs in a fresh Node process
// (this file, with --child), so its RSS is its own. The files are written directly,
// by the store's own snapshot writer, rather than through 10M creates.
//
//   npx tsx bench/store.mts [--sizes 10000,100000,1000000] [--big 10000000|0] [--legacy]
//   npx tsx bench/store.mts --latency [--sizes 1000,10000,100000] [--ops 500] [--fsync]
//
// --legacy adds a start from the single-document snapshot of earlier versions at
// the largest size (the upgrade path). --latency runs the earlier form of this
// benchmark (create, look-up and consume latency over N historical invites, and
// during a compaction; docs/performance.md section 3). Figures are printed with
// PASS/MISS against the issue's targets, never asserted.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { InviteService } from '../src/invites/service.js';
import { hashToken, newId, newToken } from '../src/invites/tokens.js';
import type { Invite, InviteKind } from '../src/invites/types.js';
import { cursorOf } from '../src/store/store.js';
import { LowdbStore } from '../src/store/lowdb/lowdb-store.js';
import { inviteJson } from '../src/store/lowdb/invite-table.js';
import { SnapshotFile } from '../src/store/lowdb/snapshot-file.js';
import type { BenchReport, Target } from './lib/stats.js';

export interface StoreBenchOptions {
  sizes?: number[];
  /** The size that must start, past the others; 0 skips it. */
  big?: number;
  /** Also start from the single-document format of earlier versions, at the largest size. */
  legacy?: boolean;
}

const DOMAIN = 'example.org';
const ADMINS = 10;
const USERS = 10_000;
const DAY = 86_400_000;
const PAGE = 20;
const PAGES = 500;
const CREATES = 500;

// ---- the generated store: invite i is a function of i, so the child can aim at any of them

const ID_CHARS = '23456789abcdefghijkmnpqrstuvwxyz';
/** Distinct ids of the real shape (8 characters of the id alphabet). */
function idOf(i: number): string {
  let n = 2 ** 39 + i;
  let s = '';
  for (let k = 0; k < 8; k++) {
    s = ID_CHARS[n % 32] + s;
    n = Math.floor(n / 32);
  }
  return s;
}
const tokenOf = (i: number) => `benchtoken${String(i).padStart(14, '0')}`;

interface Shape {
  n: number;
  /** Creation time of invite 0, and the step between two. */
  t0: number;
  step: number;
}

/** The shape of N pending invites created over the last six days (all still open for a day or more). */
export function shapeOf(n: number, now: number): Shape {
  return { n, t0: now - 6 * DAY, step: (6 * DAY - 60_000) / n };
}

/** Invite i: nine in ten account invites by ten admins (one in a hundred an admin invite), one in ten contact invites by 10,000 users. */
function pending(i: number, s: Shape): Invite {
  const created = Math.floor(s.t0 + i * s.step);
  const contact = i % 10 === 9;
  const user = `user${i % USERS}@${DOMAIN}`;
  const kind: InviteKind = contact ? 'contact' : 'account';
  return {
    id: idOf(i),
    tokenHash: hashToken(tokenOf(i)),
    kind,
    createdBy: contact ? user : `admin${i % ADMINS}@${DOMAIN}`,
    ...(contact ? { inviter: user } : {}),
    roles: !contact && i % 100 === 0 ? ['admin'] : [],
    maxUses: 1,
    uses: [],
    createdAt: new Date(created).toISOString(),
    expiresAt: new Date(created + 7 * DAY).toISOString(),
  };
}

const ROLES = { [`new0@${DOMAIN}`]: ['admin' as const] };

/** The snapshot of N pending invites, written by the store's own writer (checksums, fsyncs and all). */
export async function writeStore(file: string, s: Shape): Promise<void> {
  await new SnapshotFile(file).write(s.n, (i) => inviteJson(pending(i, s)), ROLES);
}

/** The same in the single-document format of earlier versions. */
export async function writeLegacy(file: string, s: Shape): Promise<void> {
  const out = createWriteStream(file);
  const put = (text: string) => (out.write(text) ? undefined : new Promise<void>((r) => out.once('drain', () => r())));
  await put('{"version":1,"invites":[');
  for (let i = 0; i < s.n; i++) await put((i ? ',' : '') + JSON.stringify(pending(i, s)));
  await put(`],"roles":${JSON.stringify(ROLES)}}`);
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
}

// ---- the child: one start, measured

interface Started {
  n: number;
  openMs: number;
  /** The longest stall during the open: monitorEventLoopDelay's max, and the longest gap of a 10 ms interval timer. */
  stallMs: number;
  gapMs: number;
  rssPeakMiB: number;
  rssMiB: number;
  rssGcMiB: number;
  heapGcMiB: number;
  pageAll?: [number, number, number];
  pageMine?: [number, number, number];
  lookup?: [number, number, number];
  create?: [number, number, number];
  /** Creates run up to the next doubling of the columns (their slowest), and how many that took. */
  growth?: [number, number];
}

const mib = (b: number) => b / 2 ** 20;

async function child(file: string, s: Shape, full: boolean): Promise<Started> {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  let gap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const t = performance.now();
    gap = Math.max(gap, t - last);
    last = t;
  }, 10);
  loop.enable();
  const t0 = performance.now();
  const store = await LowdbStore.open(file);
  const openMs = performance.now() - t0;
  loop.disable();
  clearInterval(timer);
  const rssMiB = mib(process.memoryUsage().rss);
  (globalThis as { gc?: () => void }).gc?.();
  const r: Started = {
    n: (await store.stats()).invites,
    openMs,
    stallMs: loop.max / 1e6,
    gapMs: gap,
    rssPeakMiB: process.resourceUsage().maxRSS / 1024,
    rssMiB,
    rssGcMiB: mib(process.memoryUsage().rss),
    heapGcMiB: mib(process.memoryUsage().heapUsed),
  };
  if (!full) {
    await store.close();
    return r;
  }
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const openAt = new Date();
  const time = async (f: () => Promise<unknown>, times: number): Promise<[number, number, number]> => {
    const xs: number[] = [];
    for (let k = 0; k < 20; k++) await f(); // warm-up
    for (let k = 0; k < times; k++) {
      const t = performance.now();
      await f();
      xs.push(performance.now() - t);
    }
    xs.sort((a, b) => a - b);
    const at = (p: number) => xs[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)]!;
    return [at(0.5), at(0.99), xs.at(-1)!];
  };
  r.pageAll = await time(async () => {
    const page = await store.page({ openAt, after: cursorOf(pending(rnd(s.n), s)), limit: PAGE });
    if (page.invites.length === 0 && s.n > PAGE) throw new Error('an empty page');
  }, PAGES);
  // One admin's list: a tenth of everything; the cursor one of that admin's invites.
  r.pageMine = await time(async () => {
    const i = rnd(Math.floor(s.n / 10)) * 10 + 3;
    const page = await store.page({ createdBy: `admin3@${DOMAIN}`, openAt, after: cursorOf(pending(i, s)), limit: PAGE });
    if (page.invites.length === 0 && s.n > 10 * PAGE) throw new Error('an empty page');
  }, PAGES);
  r.lookup = await time(async () => {
    if (!(await store.findByHash(hashToken(tokenOf(rnd(s.n)))))) throw new Error('lookup lost an invite');
  }, PAGES);
  const service = new InviteService(store, {
    domain: DOMAIN, admins: [`admin0@${DOMAIN}`], allowUserInvites: false, allowContactInvites: true,
    maxInvitesPerUser: 1000, inviteExpiry: 7 * 86400, resetExpiry: 86400,
  });
  const create = async () => {
    const c = await service.create({ jid: `admin0@${DOMAIN}` }, { kind: 'account' });
    if (!c.ok) throw new Error(c.message);
  };
  r.create = await time(create, CREATES);
  // Past the next power of two the columns and hash tables double: the one slow create.
  const next = 2 ** Math.ceil(Math.log2(r.n + CREATES + 21));
  const more = Math.min(next - (r.n + CREATES + 20) + 10, 200_000);
  let worst = 0;
  for (let k = 0; k < more; k++) {
    const t = performance.now();
    await create();
    worst = Math.max(worst, performance.now() - t);
  }
  r.growth = [worst, more];
  service.close();
  // Not measured: the compaction at close would rewrite the whole file.
  return r;
}

function startChild(file: string, s: Shape, full: boolean, extraArgs: string[] = []): Promise<Started> {
  const args = [...extraArgs, '--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', file, JSON.stringify(s), full ? 'full' : 'open'];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice(7)) as Started);
      else reject(new Error(`the store's start exited with ${code}: ${out.slice(-2000)}`));
    });
  });
}

// ---- the report

const f = (n: number) => (n < 1 ? n.toFixed(3) : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0));
const count = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

export async function run(opts: StoreBenchOptions = {}): Promise<BenchReport> {
  const sizes = opts.sizes ?? [10_000, 100_000, 1_000_000];
  const big = opts.big ?? 10_000_000;
  const dir = await mkdtemp(join(tmpdir(), 'bench-store-'));
  const lines = [
    'Store at scale (bench/store.mts): pending invites written as a snapshot, each start in a fresh process;',
    `page = ${PAGE} invites from a random cursor, ${PAGES} each; create = the service's, ${CREATES} after 20; times in ms, RSS in MiB.`,
    `${'pending'.padStart(8)} | ${'start'.padStart(6)} | ${'stall / timer gap'.padStart(17)} | ${'RSS peak / after / GC'.padStart(21)} | heap | ${'page all p50/p99'.padStart(16)} | ${'page one creator'.padStart(16)} | ${'lookup p99'.padStart(10)} | ${'create p50/p99/max'.padStart(18)} | next doubling: max (creates) | load`,
  ];
  const targets: Target[] = [];
  const target = (what: string, wanted: string, measured: string, pass: boolean) => targets.push({ bench: '3', what, target: wanted, measured, pass });
  try {
    for (const n of sizes) {
      const file = join(dir, `s${n}`, 'invites.json');
      const s = shapeOf(n, Date.now());
      await rm(join(dir, `s${n}`), { recursive: true, force: true });
      await LowdbStore.open(file).then((st) => st.close()); // the directory, as the service makes it
      await writeStore(file, s);
      const r = await startChild(file, s, true);
      lines.push(`${count(n).padStart(8)} | ${f(r.openMs).padStart(6)} | ${`${f(r.stallMs)} / ${f(r.gapMs)}`.padStart(17)} | ${`${f(r.rssPeakMiB)} / ${f(r.rssMiB)} / ${f(r.rssGcMiB)}`.padStart(21)} | ${f(r.heapGcMiB).padStart(4)} | `
        + `${`${f(r.pageAll![0])} / ${f(r.pageAll![1])}`.padStart(16)} | ${`${f(r.pageMine![0])} / ${f(r.pageMine![1])}`.padStart(16)} | ${f(r.lookup![1]).padStart(10)} | `
        + `${`${f(r.create![0])} / ${f(r.create![1])} / ${f(r.create![2])}`.padStart(18)} | ${`${f(r.growth![0])} (${r.growth![1]})`.padStart(29)} | ${load()}`);
      if (n === 1_000_000) {
        target('cold start at 1M pending', '<= 2 s', `${f(r.openMs / 1000)} s`, r.openMs <= 2000);
        target('RSS after start at 1M (peak)', '<= 400 MiB', `${f(r.rssMiB)} MiB (peak ${f(r.rssPeakMiB)})`, r.rssPeakMiB <= 400);
        target('longest stall during start at 1M', '<= 50 ms', `${f(Math.max(r.stallMs, r.gapMs))} ms`, Math.max(r.stallMs, r.gapMs) <= 50);
        const page = Math.max(r.pageAll![1], r.pageMine![1]);
        target('page of a list at 1M, p99 (all; one creator)', '<= 5 ms', `${f(r.pageAll![1])}; ${f(r.pageMine![1])} ms`, page <= 5);
      }
      const bytes = (await stat(file)).size;
      lines.push(`${''.padStart(8)}   (snapshot ${f(mib(bytes))} MiB)`);
      if (opts.legacy && n === sizes.at(-1)) {
        await writeLegacy(file, s);
        const l = await startChild(file, s, false);
        lines.push(`${count(n).padStart(8)} | ${f(l.openMs).padStart(6)} | ${`${f(l.stallMs)} / ${f(l.gapMs)}`.padStart(17)} | ${`${f(l.rssPeakMiB)} / ${f(l.rssMiB)} / ${f(l.rssGcMiB)}`.padStart(21)} | ${f(l.heapGcMiB).padStart(4)} | from the single-document format of earlier versions (an upgrade) | ${load()}`);
      }
      await rm(join(dir, `s${n}`), { recursive: true, force: true });
    }
    if (big > 0) {
      const file = join(dir, 'big', 'invites.json');
      const s = shapeOf(big, Date.now());
      await LowdbStore.open(file).then((st) => st.close());
      const t = performance.now();
      await writeStore(file, s);
      const written = performance.now() - t;
      let r: Started | undefined;
      let error = '';
      try {
        r = await startChild(file, s, false);
      } catch (e) {
        error = (e as Error).message.split('\n').slice(0, 3).join(' ');
      }
      const bytes = (await stat(file)).size;
      lines.push(r
        ? `${count(big).padStart(8)} | ${f(r.openMs).padStart(6)} | ${`${f(r.stallMs)} / ${f(r.gapMs)}`.padStart(17)} | ${`${f(r.rssPeakMiB)} / ${f(r.rssMiB)} / ${f(r.rssGcMiB)}`.padStart(21)} | ${f(r.heapGcMiB).padStart(4)} | start only; snapshot ${f(mib(bytes))} MiB written in ${f(written / 1000)} s | ${load()}`
        : `${count(big).padStart(8)} | did not start: ${error}`);
      target(`a store of ${count(big)} invites starts`, 'starts', r ? `${f(r.openMs / 1000)} s, ${f(r.rssMiB)} MiB (${r.n} invites)` : 'failed', r?.n === big);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { title: '3. Store', lines, targets };
}

// ---- the earlier form: latency over N historical invites (docs/performance.md section 3)

const HOUR = 3600_000;
const WARM_UP = 20;

/** A historical invite as the service leaves it: ended within the last day, so not yet archived. */
function historical(i: number, now: number): { invite: Invite; token: string } {
  const token = newToken();
  const ended = now - ((i * 7919) % (23 * HOUR)) - 60_000;
  const created = ended - 2 * HOUR;
  const shape = i % 20;
  const kind: InviteKind = shape < 10 ? 'account' : shape < 16 ? 'contact' : shape < 19 ? 'account-contact' : 'reset';
  const user = `user${i}@${DOMAIN}`;
  const invite: Invite = {
    id: newId(),
    tokenHash: hashToken(token),
    kind,
    createdBy: kind === 'account' || kind === 'reset' ? `admin@${DOMAIN}` : user,
    ...(kind === 'contact' || kind === 'account-contact' ? { inviter: user } : {}),
    ...(kind === 'reset' ? { username: `user${i}` } : {}),
    roles: kind === 'account' && i % 100 === 0 ? ['admin'] : [],
    maxUses: 1,
    uses: [],
    createdAt: new Date(created).toISOString(),
    expiresAt: new Date(created + 7 * 24 * HOUR).toISOString(),
  };
  if (shape % 3 === 0) invite.expiresAt = new Date(ended).toISOString(); // expired unused
  else if (shape === 7) invite.revokedAt = new Date(ended).toISOString();
  else invite.uses.push({ jid: `new${i}@${DOMAIN}`, at: new Date(ended).toISOString() });
  return { invite, token };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function latency(size: number, ops: number, fsync: boolean): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-store-'));
  const ADMIN = { jid: `admin@${DOMAIN}` };
  try {
    const file = join(dir, 'invites.json');
    const now = Date.now();
    const old = Array.from({ length: size }, (_, i) => historical(i, now));
    await writeFile(file, JSON.stringify({ version: 1, invites: old.map((h) => h.invite), roles: { [`new0@${DOMAIN}`]: ['admin'] } }));
    let t = performance.now();
    const store = await LowdbStore.open(file, { fsync });
    const openMs = performance.now() - t;
    const service = new InviteService(store, {
      domain: DOMAIN, admins: [ADMIN.jid], allowUserInvites: false, allowContactInvites: true,
      maxInvitesPerUser: 1000, inviteExpiry: 7 * 86400, resetExpiry: 86400,
    });
    for (let i = 0; i < WARM_UP; i++) {
      const c = await service.create(ADMIN, { kind: 'account' });
      if (!c.ok) throw new Error(c.message);
      const r = await service.reserve(c.token, { purpose: 'register', username: `warm${i}` });
      if (!r.ok) throw new Error(r.message);
      if (!(await service.commit(r.reservation, `warm${i}@${DOMAIN}`)).ok) throw new Error('warm-up failed');
    }
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const samples: Record<string, number[]> = { create: [], userCreate: [], lookup: [], consume: [] };
    const tokens: string[] = [];
    for (let i = 0; i < ops; i++) {
      t = performance.now();
      const c = await service.create(ADMIN, { kind: 'account' });
      samples.create!.push(performance.now() - t);
      if (!c.ok) throw new Error(c.message);
      tokens.push(c.token);
    }
    for (let i = 0; i < ops; i++) {
      const user = { jid: `user${20 * (i % Math.ceil(size / 20)) + 10}@${DOMAIN}` };
      t = performance.now();
      const c = await service.create(user, { kind: 'contact' });
      samples.userCreate!.push(performance.now() - t);
      if (!c.ok) throw new Error(c.message);
    }
    for (let i = 0; i < ops; i++) {
      const token = i % 2 ? tokens[i]! : old[(i * 104729) % size]!.token;
      t = performance.now();
      const found = await service.lookup(token);
      samples.lookup!.push(performance.now() - t);
      if (found.state === 'unknown') throw new Error('lookup lost an invite');
    }
    for (let i = 0; i < ops; i++) {
      t = performance.now();
      const r = await service.reserve(tokens[i]!, { purpose: 'register', username: `bench${i}` });
      if (!r.ok) throw new Error(r.message);
      const done = await service.commit(r.reservation, `bench${i}@${DOMAIN}`);
      samples.consume!.push(performance.now() - t);
      if (!done.ok) throw new Error(done.message);
    }
    loop.disable();
    const loopMax = loop.max / 1e6;
    loop.reset();
    loop.enable();
    t = performance.now();
    let compacted = false;
    const compaction = store.compact().then(() => { compacted = true; });
    samples.during = [];
    while (!compacted) {
      const t1 = performance.now();
      const c = await service.create(ADMIN, { kind: 'account' });
      samples.during.push(performance.now() - t1);
      if (!c.ok) throw new Error(c.message);
    }
    await compaction;
    const compactMs = performance.now() - t;
    loop.disable();
    for (const s of Object.values(samples)) s.sort((a, b) => a - b);
    const three = (s: number[]) => `${f(pct(s, 50))} / ${f(pct(s, 99))} / ${f(s.at(-1)!)}`;
    const two = (s: number[]) => `${f(pct(s, 50))} / ${f(pct(s, 99))}`;
    service.close();
    await store.close();
    return [
      `${String(size).padStart(10)} ${f(openMs).padStart(6)} | ${three(samples.create!).padStart(26)} | ${two(samples.userCreate!).padStart(21)} | ${two(samples.lookup!).padStart(15)} | ${three(samples.consume!).padStart(22)} | ${f(loopMax)}`,
      `${String(size).padStart(10)} compaction ${f(compactMs)} ms, ${samples.during.length} creates meanwhile: ${three(samples.during)}, loop max ${f(loop.max / 1e6)}`,
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--child') {
    const [file, shape, mode] = process.argv.slice(3);
    const r = await child(file!, JSON.parse(shape!) as Shape, mode === 'full');
    process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
    process.exit(0);
  }
  const { values } = parseArgs({
    options: { sizes: { type: 'string' }, big: { type: 'string' }, legacy: { type: 'boolean' }, latency: { type: 'boolean' }, ops: { type: 'string' }, fsync: { type: 'boolean' } },
  });
  const sizes = values.sizes?.split(',').map(Number);
  if (values.latency) {
    console.log(`Latency over N historical invites; journal ${values.fsync ? 'fdatasync per change' : 'write() per change, no fsync'}; ms; load ${load()}`);
    console.log(`${'historical'.padStart(10)} ${'open'.padStart(6)} | ${'create (admin) p50/p99/max'.padStart(26)} | ${'create (user) p50/p99'.padStart(21)} | ${'lookup p50/p99'.padStart(15)} | ${'consume p50/p99/max'.padStart(22)} | loop max`);
    for (const size of sizes ?? [1000, 10_000, 100_000]) console.log((await latency(size, values.ops ? Number(values.ops) : 500, values.fsync ?? false)).join('\n'));
  } else {
    const r = await run({ sizes, big: values.big === undefined ? undefined : Number(values.big), legacy: values.legacy });
    console.log([...r.lines, '', ...r.targets.map((t) => `${t.pass ? 'PASS' : 'MISS'}  ${t.what}: ${t.measured} (wanted ${t.target})`)].join('\n'));
  }
}

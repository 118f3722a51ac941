// `npm run bench`: every benchmark in one run, on one Prosody build (PROSODY_VERSION=13
// for 13: ours against 13's own invite modules), then a
// summary of the issue's targets (PASS/MISS are printed, never asserted).
// `npm run bench -- 1 4` runs only benchmarks 1 and 4. BENCH_PROFILE=1 adds, per
// benchmark, the functions with the most CPU self time: of this process (the load
// clients, and the service with BENCH_SERVICE=inline) and of the service's own process;
// BENCH_TRACE=1 how long the service's own process took to answer (lib/socket-trace.mjs).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prosodyBuild } from '../src/server/prosody/builds.js';
import { profile } from './lib/profile.js';
import { takeServiceProfile, takeServiceTrace } from './lib/setup.js';
import type { BenchReport, Target } from './lib/stats.js';
import { table } from './lib/stats.js';

type Bench = { n: string; load: () => Promise<(() => Promise<BenchReport>) | undefined> };

// Benchmark 3 (bench/store.mts) is written separately; it prints lines of its own.
const storeBench = new URL('./store.mts', import.meta.url);
const BENCHES: Bench[] = [
  { n: '1', load: async () => (await import('./ibr.mjs')).run },
  { n: '2', load: async () => (await import('./invite.mjs')).run },
  {
    n: '3',
    load: async () => {
      if (!fs.existsSync(storeBench)) return undefined;
      const spec = './store.mjs'; // a variable: the file may not exist yet when this is type-checked
      const mod = (await import(spec)) as { run: () => Promise<string[] | BenchReport> };
      return async () => {
        const out = await mod.run();
        return Array.isArray(out) ? { title: '3. Store', lines: out, targets: [] } : out;
      };
    },
  },
  { n: '4', load: async () => (await import('./race.mjs')).run },
  { n: '5', load: async () => { const { run } = await import('./postgres.mjs'); return () => run(); } },
  { n: '6', load: async () => { const { run } = await import('./pages.mjs'); return () => run(); } },
  { n: '7', load: async () => { const { run } = await import('./ejabberd.mjs'); return () => run(); } },
  { n: '8', load: async () => { const { run } = await import('./api.mjs'); return () => run(); } },
];

function about(): string {
  const version = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', timeout: 5000 }).trim();
    } catch {
      return '?';
    }
  };
  const dirty = version('git', ['status', '--porcelain', '--untracked-files=no']) !== '';
  const commit = version('git', ['rev-parse', '--short', 'HEAD']) + (dirty ? ' with uncommitted changes' : '');
  const build = prosodyBuild();
  // 13 is unpacked, not installed: its tree records the version; 0.12 is Debian's package.
  const prosody = build.version === '13'
    ? (() => { try { return fs.readFileSync(path.join(build.prosody, '../../../.version'), 'utf8').trim(); } catch { return '13 (?)'; } })()
    : version('dpkg-query', ['-W', '-f', '${Version}', 'prosody']);
  return `commit ${commit}, Prosody ${prosody}, Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`;
}

const only = process.argv.slice(2);
const started = Date.now();
console.log(`npm run bench${only.length ? ` -- ${only.join(' ')}` : ''}: ${new Date().toISOString()}, ${about()}\n`);
const targets: Target[] = [];
for (const bench of BENCHES) {
  if (only.length && !only.includes(bench.n)) continue;
  const run = await bench.load();
  if (!run) {
    console.log(`## ${bench.n}. skipped: bench/store.mts is not there yet\n`);
    continue;
  }
  const t0 = Date.now();
  try {
    let r: BenchReport | undefined;
    const cpu = process.env.BENCH_PROFILE === '1' ? await profile(async () => { r = await run(); }, 20) : (r = await run(), []);
    console.log(`## ${r!.title}  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    const service = takeServiceProfile();
    const trace = takeServiceTrace();
    console.log([...r!.lines, ...(cpu.length ? ['', 'CPU profile of this process:', ...cpu] : []),
      ...(service.length ? ['', "CPU profile of our service's own process:", ...service] : []),
      ...(trace.length ? ['', ...trace] : [])].join('\n') + '\n');
    targets.push(...r!.targets);
  } catch (e) {
    // One broken benchmark does not hide the others' figures.
    console.log(`## ${bench.n}. FAILED after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
}

if (targets.length) {
  console.log('## Targets');
  console.log(table([['', 'bench', 'target', 'wanted', 'measured'], ...targets.map((t) => [t.pass ? 'PASS' : 'MISS', t.bench, t.what, t.target, t.measured])], 'llll').join('\n'));
  const missed = targets.filter((t) => !t.pass).length;
  console.log(`\n${targets.length - missed} of ${targets.length} targets met; total ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

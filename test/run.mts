// `npm test` after the type check: the unit tests once, and every suite that
// starts a server (integration, conformance, faults, abuse) once per Prosody build,
// 0.12 and 13; the specs test/servers.mts lists once per ejabberd build, 23.01 and
// 24.12 (TEST_SERVER=ejabberd). All are independent mocha processes running side by
// side. Each run's output is printed whole when it ends; the last line sums them up.
// TEST_SERVERS=prosody-0.12,ejabberd-23.01 (any of prosody-0.12, prosody-13,
// ejabberd-23.01, ejabberd-24.12) runs the server suites on those only;
// TEST_PROSODY=13 (or 0.12, or both) on those Prosody builds only, no ejabberd.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EJABBERD_VERSIONS } from '../src/server/ejabberd/builds.js';
import { PROSODY_VERSIONS } from '../src/server/prosody/builds.js';
import { EJABBERD_ONLY_SPECS, EJABBERD_SPECS } from './servers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MOCHA = join(ROOT, 'node_modules/mocha/bin/mocha.js');
const SERVER_SUITES = ['test/integration/**/*.test.ts', 'test/conformance/**/*.test.ts', 'test/faults/**/*.test.ts', 'test/abuse/**/*.test.ts'];

interface Run {
  name: string;
  specs: string[];
  env: Record<string, string>;
}

const serverRuns: Record<string, Run> = {};
for (const v of PROSODY_VERSIONS) {
  serverRuns[`prosody-${v}`] = {
    name: `Prosody ${v}`,
    specs: [...SERVER_SUITES, ...EJABBERD_ONLY_SPECS.flatMap((f) => ['--ignore', f])],
    env: { TEST_SERVER: 'prosody', PROSODY_VERSION: v },
  };
}
for (const v of EJABBERD_VERSIONS) {
  serverRuns[`ejabberd-${v}`] = { name: `ejabberd ${v}`, specs: [...EJABBERD_SPECS], env: { TEST_SERVER: 'ejabberd', EJABBERD_VERSION: v } };
}

const list = (name: string) => (process.env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
function chosen(): string[] {
  const servers = list('TEST_SERVERS');
  if (servers.length) {
    const unknown = servers.filter((s) => !(s in serverRuns));
    if (unknown.length) fail(`TEST_SERVERS: expected some of ${Object.keys(serverRuns).join(', ')}, not ${unknown.join(', ')}`);
    return servers;
  }
  const prosody = list('TEST_PROSODY');
  const unknown = prosody.filter((v) => !(PROSODY_VERSIONS as readonly string[]).includes(v));
  if (unknown.length) fail(`TEST_PROSODY: expected ${PROSODY_VERSIONS.join(' or ')}, not ${unknown.join(', ')}`);
  return prosody.length ? prosody.map((v) => `prosody-${v}`) : Object.keys(serverRuns);
}
function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

const runs: Run[] = [
  { name: 'unit', specs: ['test/unit/**/*.test.ts'], env: {} },
  ...[...new Set(chosen())].map((key) => serverRuns[key]!),
];

const dir = await mkdtemp(join(tmpdir(), 'invites-test-run-'));
/** How long a run may take to exit once mocha has printed its summary (its after hooks are done by then). */
const EXIT_GRACE_MS = 60_000;

async function execute(run: Run, i: number): Promise<{ run: Run; code: number; output: string; ms: number }> {
  const file = join(dir, `${i}.log`);
  const out = createWriteStream(file);
  const started = Date.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [MOCHA, '--no-color', ...run.specs], {
      cwd: ROOT,
      env: { ...process.env, ...run.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    // Mocha has printed its summary but its process does not end: something a test started is
    // still running (a reconnecting client kept one alive for good). Said, and failed, not waited for.
    let hung: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      if (hung || !/^\s*\d+ passing/m.test(chunk.toString())) return;
      hung = setTimeout(() => {
        out.write(`\n${run.name}: mocha did not exit within ${EXIT_GRACE_MS / 1000} s of its summary: a test left something running\n`);
        child.kill('SIGKILL');
      }, EXIT_GRACE_MS);
    });
    child.on('close', (c, signal) => { clearTimeout(hung); resolve(c ?? (signal ? 1 : 0)); });
  });
  await new Promise<void>((resolve) => out.end(resolve));
  return { run, code, output: await readFile(file, 'utf8'), ms: Date.now() - started };
}

process.stdout.write(`running ${runs.map((r) => r.name).join(', ')} side by side\n`);
const results = await Promise.all(runs.map(execute));
await rm(dir, { recursive: true, force: true });

let passed = 0;
let failed = 0;
const summary: string[] = [];
for (const { run, code, output, ms } of results) {
  process.stdout.write(`\n===== ${run.name} =====\n${output}`);
  const p = Number(/^\s*(\d+) passing/m.exec(output)?.[1] ?? 0);
  // A run that crashed before mocha counted anything still fails the whole.
  const f = Number(/^\s*(\d+) failing/m.exec(output)?.[1] ?? (code === 0 ? 0 : 1));
  passed += p;
  failed += f;
  summary.push(`  ${run.name}: ${p} passed, ${f} failed, exit ${code}, ${(ms / 1000).toFixed(0)} s`);
}
process.stdout.write(`\n${summary.join('\n')}\n`);
const ok = failed === 0 && results.every((r) => r.code === 0);
process.stdout.write(`tests: ${passed} passed, ${ok ? failed : Math.max(failed, 1)} failed\n`);
// Not process.exit(): on a pipe (CI's tee) the output is written asynchronously, and exiting
// at once cut five runs' worth of it short, summary included.
process.exitCode = ok ? 0 : 1;

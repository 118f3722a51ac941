// Benchmark 8: the HTTP API over real HTTP on loopback (one keep-alive client, one
// request at a time, after a warm-up).
// (a) An account invite through Prosody's mod_invites_api drop-in, `GET /invites_api?key=KEY`:
//     ours (a whole service stack: a private Prosody with our bridge and component, the
//     service in its own process as deployed, BENCH_SERVICE=inline in this one, lowdb store)
//     against Prosody's own mod_invites_api (with mod_http and mod_invites, the key made by
//     `prosodyctl mod_invites_api create HOST NAME`) on the same Prosody build
//     (PROSODY_VERSION), interleaved turn by turn so machine noise falls on both; both
//     sides hold the same number of pending invites at every turn.
// (b) `POST /api/v1/invites` and `GET /api/v1/invites?limit=20` with a bearer key,
//     interleaved with each other: for information.
// No target in the issue: printed for information.
// Prosody's own side is a second private Prosody, started here: LocalProsody writes
// `http_ports = {}` (its HTTP is off), and Prosody reads the HTTP ports from the
// global section only.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { parseConfig } from '../src/config.js';
import { openCore } from '../src/core.js';
import { type ProsodyBuild, prosodyBuild } from '../src/server/prosody/builds.js';
import { acceptsTcp, freePorts } from '../src/server/free-port.js';
import { ServiceProcess } from '../test/helpers/service-process.js';
import { type Stack, startStack } from '../test/helpers/stack.js';
import { type BenchReport, ms, ratio, summarize, table } from './lib/stats.js';
import { interleaved } from './lib/turns.js';

const execFileAsync = promisify(execFile);
const COUNT = Number(process.env.BENCH_API_COUNT ?? 300);
const WARMUP = 50;
const NATIVE = 'native.localhost';
const HOST = '127.0.0.1';
const MODE = process.env.BENCH_SERVICE === 'inline' ? 'inline' : 'process';
const CREATE_BODY = JSON.stringify({ kind: 'account', uses: 5, expiresAfter: '2d', note: 'bench' });

/** A private Prosody with mod_http on a loopback port and mod_invites + mod_invites_api on one host. */
class NativeApiProsody {
  private child?: ChildProcess;
  private exited: Promise<void> = Promise.resolve();
  private constructor(readonly dir: string, readonly build: ProsodyBuild, readonly httpPort: number, readonly config: string, readonly log: string) {}

  get url(): string {
    return `http://${HOST}:${this.httpPort}`;
  }

  static async start(build: ProsodyBuild): Promise<{ prosody: NativeApiProsody; key: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'invites-bench-api-prosody-'));
    const [c2s, http] = await freePorts(2, HOST);
    const p = new NativeApiProsody(dir, build, http!, join(dir, 'prosody.cfg.lua'), join(dir, 'prosody.log'));
    try {
      for (const sub of ['data', 'certs']) fs.mkdirSync(join(dir, sub), { mode: 0o700 });
      const q = JSON.stringify; // the paths are ours (mkdtemp); a JSON string is a Lua string for them
      await writeFile(p.config, [
        'run_as_root = true', 'daemonize = false', 'umask = "077"',
        `data_path = ${q(join(dir, 'data'))}`, `certificates = ${q(join(dir, 'certs'))}`,
        `log = { { levels = { min = "info" }, to = "file", filename = ${q(p.log)} } }`,
        `plugin_paths = { ${build.moduleDirs.map((d) => q(d)).join(', ')} }`,
        `interfaces = { ${q(HOST)} }`, `c2s_ports = { ${c2s} }`,
        `http_interfaces = { ${q(HOST)} }`, `http_ports = { ${http} }`, 'https_ports = {}',
        `http_default_host = ${q(NATIVE)}`,
        'authentication = "internal_hashed"', 'storage = "internal"',
        'modules_enabled = { "disco" }', 'modules_disabled = { "s2s", "tls" }',
        '',
        `VirtualHost ${q(NATIVE)}`,
        '  modules_enabled = { "http", "invites", "invites_api" }',
        '',
      ].join('\n'), { mode: 0o600 });
      // As its README says: prosodyctl mod_invites_api create HOST NAME; the key is its last line.
      const { stdout } = await execFileAsync(build.prosodyctl, ['--config', p.config, 'mod_invites_api', 'create', NATIVE, 'bench'], { timeout: 30_000 });
      const key = stdout.trim().split('\n').at(-1)!.trim();
      if (!/^[^/\s]+\/\S+$/.test(key)) throw new Error(`prosodyctl mod_invites_api create printed no key: ${stdout}`);
      await p.launch();
      return { prosody: p, key };
    } catch (e) {
      await p.stop();
      throw e;
    }
  }

  private async launch(): Promise<void> {
    const fd = fs.openSync(this.log, 'a', 0o600);
    // Prosody 13.0.1 applies no `umask` of its own (see local-prosody.ts).
    const umask = process.umask(0o077);
    try {
      this.child = spawn(this.build.prosody, ['--config', this.config, '-F'], { stdio: ['ignore', fd, fd], detached: true });
    } finally {
      process.umask(umask);
      fs.closeSync(fd);
    }
    const child = this.child;
    let gone = false;
    this.exited = new Promise((resolve) => { child.once('exit', () => { gone = true; resolve(); }); child.once('error', () => { gone = true; resolve(); }); });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const log = await readFile(this.log, 'utf8').catch(() => '');
      if (log.includes(`Activated service 'http' on [${HOST}]:${this.httpPort}`) && await acceptsTcp(this.httpPort, HOST)) return;
      if (gone || log.includes('Failed to open server port') || Date.now() > deadline) {
        throw new Error(`Prosody ${this.build.version} with mod_invites_api did not start:\n${log.split('\n').slice(-30).join('\n')}`);
      }
      await sleep(50);
    }
  }

  /** SIGTERM by PID (SIGKILL after 5 s), then its dir is removed. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => { if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL'); }, 5000);
      await this.exited;
      clearTimeout(timer);
    }
    this.child = undefined;
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Our whole stack with the HTTP API on PUBLIC_URL, and a key (invites:write, which reads too). */
async function startOurs(): Promise<{ stack: Stack; proc?: ServiceProcess; url: string; key: string }> {
  const [port] = await freePorts(1, HOST);
  const url = `http://${HOST}:${port}`;
  const env = { PUBLIC_URL: url, HTTP_PORT: String(port), API_RATE_LIMIT: '1000000/1' };
  const stack = await startStack(env, { app: MODE === 'inline' ? {} : false });
  let proc: ServiceProcess | undefined;
  try {
    let key: string;
    if (MODE === 'inline') {
      const made = await stack.app.apiKeys.create('bench', ['invites:write']);
      if (!made.ok) throw new Error(made.message);
      key = made.secret;
    } else {
      // Made as `npm run invites -- api-key create` makes it: on the store, before the service takes its lock.
      const core = await openCore(parseConfig(stack.env));
      try {
        const made = await core.apiKeys.create('bench', ['invites:write']);
        if (!made.ok) throw new Error(made.message);
        key = made.secret;
      } finally {
        core.service.close();
        await core.store.close();
      }
      proc = new ServiceProcess(stack.dir, stack.env);
      await proc.ready();
    }
    for (let i = 0; ; i++) {
      const ok = await fetch(`${url}/api/v1/openapi.json`).then(async (r) => { await r.arrayBuffer(); return r.ok; }, () => false);
      if (ok) break;
      if (i > 200) throw new Error(`our HTTP API did not answer at ${url}`);
      await sleep(50);
    }
    return { stack, proc, url, key };
  } catch (e) {
    await proc?.stop();
    await stack.stop();
    throw e;
  }
}

type Side = 'ours' | 'prosody';

/** One timed request; the status must be the one wanted. */
async function timed(url: string, init: RequestInit, want: number): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url, { redirect: 'manual', ...init });
  await res.arrayBuffer();
  const t = performance.now() - t0;
  if (res.status !== want) throw new Error(`${init.method ?? 'GET'} ${url.replace(/key=[^&]+/, 'key=…')}: HTTP ${res.status}, not ${want}`);
  if (want === 201 && url.includes('invites_api') && !res.headers.get('location')) throw new Error(`${url}: 201 without Location`);
  return t;
}

export async function run(): Promise<BenchReport> {
  const build = prosodyBuild();
  const lines: string[] = [];
  let native: NativeApiProsody | undefined;
  let ours: Awaited<ReturnType<typeof startOurs>> | undefined;
  try {
    const n = await NativeApiProsody.start(build);
    native = n.prosody;
    ours = await startOurs();
    const o = ours;
    const dropIn: Record<Side, string> = {
      ours: `${o.url}/invites_api?key=${encodeURIComponent(o.key)}`,
      prosody: `${native.url}/invites_api?key=${encodeURIComponent(n.key)}`,
    };
    // (a)
    const SIDES: Side[] = ['ours', 'prosody'];
    const a = await interleaved(SIDES, (s) => timed(dropIn[s], {}, 201), WARMUP, COUNT);
    const s = Object.fromEntries(SIDES.map((side) => [side, summarize(a[side])])) as Record<Side, ReturnType<typeof summarize>>;
    const early = (side: Side) => summarize(a[side].slice(0, 100)).p50;
    const late = (side: Side) => summarize(a[side].slice(-100)).p50;
    lines.push(
      `(a) GET /invites_api?key=KEY (an account invite, 201 with Location), Prosody ${build.version}: ${COUNT} sequential requests per side, interleaved, after ${WARMUP} per side to warm up; ` +
        `one keep-alive client; pending invites on each side grow alike from ${WARMUP} to ${WARMUP + COUNT}:`,
      ...table([
        ['', 'p50', 'p99', 'mean', 'p50 first 100', 'p50 last 100'],
        ['ours (service ' + (MODE === 'inline' ? 'in this process' : 'in its own process') + ', lowdb)', ms(s.ours.p50), ms(s.ours.p99), ms(s.ours.mean), ms(early('ours')), ms(late('ours'))],
        [`Prosody ${build.version} mod_invites_api`, ms(s.prosody.p50), ms(s.prosody.p99), ms(s.prosody.mean), ms(early('prosody')), ms(late('prosody'))],
        ['ours / Prosody', ratio(s.ours.p50, s.prosody.p50), ratio(s.ours.p99, s.prosody.p99), ratio(s.ours.mean, s.prosody.mean), ratio(early('ours'), early('prosody')), ratio(late('ours'), late('prosody'))],
      ], 'lrrrrr').map((l) => `  ${l}`),
      '',
    );
    // (b)
    const auth = { authorization: `Bearer ${o.key}` };
    type Call = 'POST /api/v1/invites' | 'GET /api/v1/invites?limit=20';
    const CALLS: Call[] = ['POST /api/v1/invites', 'GET /api/v1/invites?limit=20'];
    const b = await interleaved(CALLS, (c) => c === CALLS[0]
      ? timed(`${o.url}/api/v1/invites`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: CREATE_BODY }, 201)
      : timed(`${o.url}/api/v1/invites?limit=20`, { headers: auth }, 200), WARMUP, COUNT);
    lines.push(
      `(b) ours only, bearer key, ${COUNT} each, interleaved, after ${WARMUP} each; POST ${CREATE_BODY}:`,
      ...table([
        ['', 'p50', 'p99', 'mean'],
        ...CALLS.map((c) => { const x = summarize(b[c]); return [c, ms(x.p50), ms(x.p99), ms(x.mean)]; }),
      ], 'lrrr').map((l) => `  ${l}`),
    );
  } finally {
    await ours?.proc?.stop();
    await ours?.stack.stop();
    await native?.stop();
  }
  return { title: '8. HTTP API (loopback, keep-alive, sequential)', lines, targets: [] };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatReport } = await import('./lib/stats.js');
  console.log(formatReport(await run()));
}

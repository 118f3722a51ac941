// One Prosody process (0.12 or 13: PROSODY_VERSION), two VirtualHosts, set up alike except for who
// handles invites:
//   localhost         our bridge (mod_invites_bridge) + our component and bot (the service)
//   native.localhost  Prosody's own mod_invites, mod_invites_register, mod_invites_adhoc
// Both hosts use the same password hashing cost (SCRAM iteration count) and have
// no registration watchers or throttles, so the only difference is the invite path.
// Our service runs as deployed, in its own process (src/main.ts), unless
// BENCH_SERVICE=inline puts it in the benchmark's process. With BENCH_PROFILE=1
// its own process writes a CPU profile, summarised by takeServiceProfile(); with
// BENCH_TRACE=1 it times its answers (lib/socket-trace.mjs, takeServiceTrace()).
import xml, { type Element } from '@xmpp/xml';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config.js';
import { openCore } from '../../src/core.js';
import type { InviteService } from '../../src/invites/service.js';
import { bridgeOptions } from '../../src/server/prosody/bridge-setup.js';
import { prosodyBuild } from '../../src/server/prosody/builds.js';
import { cpuProfFlags, profileDir } from './profile.js';
import { percentile, table } from './stats.js';
import { NS_COMMANDS, command, fieldsOf, formOf, tokenOf } from '../../test/helpers/adhoc.js';
import { ServiceProcess } from '../../test/helpers/service-process.js';
import { type Stack, BOT, COMPONENT, COMPONENT_SECRET, DOMAIN, startStack } from '../../test/helpers/stack.js';
import type { User } from '../../test/helpers/xmpp-user.js';
import { datamanagerEncode } from '../../src/server/prosody/datamanager.js';

export { DOMAIN, tokenOf };
export const NATIVE = 'native.localhost';
/** Admin of ours (ADMINS of the service) and admin of the native host (Prosody `admins`). */
export const OUR_ADMIN = `boss@${DOMAIN}`;
export const NATIVE_ADMIN = `boss@${NATIVE}`;
/** Prosody's own default (mod_auth_internal_hashed); LocalProsody's 128 is for fast test logins. */
export const ITERATIONS = 10_000;

export type ServiceMode = 'process' | 'inline';
const MODE: ServiceMode = process.env.BENCH_SERVICE === 'inline' ? 'inline' : 'process';

/** Options both VirtualHosts share, written explicitly on each. */
const SAME_ON_BOTH = {
  allow_registration: true,
  default_iteration_count: ITERATIONS,
  // mod_register loads mod_watchregistrations, which would message every admin per account.
  registration_watchers: [] as string[],
  // mod_register_limits: no min_seconds_between_registrations / registration_throttle_max
  // are set, so nothing is throttled; 127.0.0.1 is on its default allowlist anyway.
};

/** STORE_FSYNC from the environment reaches the service (its default: no fsync, like Prosody's own storage). */
const STORE_FSYNC = process.env.STORE_FSYNC;

export const SETTINGS_NOTE =
  `Prosody ${prosodyBuild().version} (one process, PROSODY_VERSION), hosts ${DOMAIN} (ours) and ${NATIVE} (native), both default_iteration_count=${ITERATIONS}, ` +
  'registration_watchers={}, no registration throttle (min_seconds_between_registrations unset; 127.0.0.1 allowlisted); ' +
  `our service: ${MODE === 'process' ? 'its own process, as deployed' : 'inside the benchmark process (BENCH_SERVICE=inline)'}, ` +
  `STORE_FSYNC=${STORE_FSYNC ?? '(default)'}, bot rate limit raised (BOT_RATE_LIMIT)`;

export interface BenchStack {
  stack: Stack;
  mode: ServiceMode;
  nativeDataDir: string;
  /** Run `work` on our invite core: the service's own (inline), or the store opened here while the service is stopped. */
  withCore(work: (service: InviteService) => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/** Plain JavaScript, so the path of the source itself. */
const SOCKET_TRACE = fileURLToPath(new URL('./socket-trace.mjs', import.meta.url));
/** Kinds of read answered fewer times than this are left out of the summary (log-in, presence). */
const TRACE_MIN_COUNT = 20;

/** The JSON files socket-trace.mjs wrote into `dir`, as p50/p90 per kind of read. */
async function traceSummary(dir: string): Promise<string[]> {
  const answered = new Map<string, number[]>();
  for (const f of await fsp.readdir(dir).catch(() => [])) {
    const one = JSON.parse(await fsp.readFile(path.join(dir, f), 'utf8')) as Record<string, number[]>;
    for (const [kind, us] of Object.entries(one)) answered.set(kind, [...(answered.get(kind) ?? []), ...us]);
  }
  const rows = [...answered].filter(([, us]) => us.length >= TRACE_MIN_COUNT)
    .map(([kind, us]) => [kind, String(us.length), percentile(us, 0.5).toFixed(0), percentile(us, 0.9).toFixed(0)]);
  return rows.length ? ['Inside our service, from a socket read to its answer\'s write (µs; every size, every process):',
    ...table([['read', 'n', 'p50', 'p90'], ...rows], 'lrrr')] : [`no answers timed in ${dir}`];
}

let lastServiceTrace: string[] = [];
/** BENCH_TRACE=1, service in its own process: how long it took to answer, since the last call (read at BenchStack.stop()). */
export function takeServiceTrace(): string[] {
  const t = lastServiceTrace;
  lastServiceTrace = [];
  return t;
}

let lastServiceProfile: string[] = [];
/** BENCH_PROFILE=1, service in its own process: the summary of its CPU profile since the last call (written at BenchStack.stop()). */
export function takeServiceProfile(): string[] {
  const p = lastServiceProfile;
  lastServiceProfile = [];
  return p;
}

export async function startBenchStack(opts: { mode?: ServiceMode } = {}): Promise<BenchStack> {
  const mode = opts.mode ?? MODE;
  const bridge = bridgeOptions(COMPONENT, COMPONENT_SECRET);
  // BENCH_BRIDGE_DIR: measure a changed copy of mod_invites_bridge.lua before changing server/prosody.
  const pluginPaths = process.env.BENCH_BRIDGE_DIR ? [process.env.BENCH_BRIDGE_DIR, ...bridge.pluginPaths!] : bridge.pluginPaths;
  const env = { ADMINS: OUR_ADMIN, BOT_RATE_LIMIT: '1000000/1', ...(STORE_FSYNC ? { STORE_FSYNC } : {}) };
  const stack = await startStack(env, {
    prosody: {
      admins: [BOT, NATIVE_ADMIN],
      pluginPaths,
      hostOptions: { ...bridge.hostOptions, ...SAME_ON_BOTH },
      extraHosts: [{
        domain: NATIVE,
        modules: ['register', 'invites', 'invites_register', 'invites_adhoc', 'adhoc'],
        options: { ...SAME_ON_BOTH, registration_invite_only: true },
      }],
    },
    app: mode === 'inline' ? {} : false,
  });
  let proc: ServiceProcess | undefined;
  const profDir = process.env.BENCH_PROFILE === '1' ? path.join(stack.dir, 'cpu-profile') : undefined;
  const traceDir = process.env.BENCH_TRACE === '1' ? path.join(stack.dir, 'socket-trace') : undefined;
  if (traceDir) await fsp.mkdir(traceDir, { recursive: true });
  const startService = async () => {
    const flags = [...(profDir ? cpuProfFlags(profDir) : []), ...(traceDir ? ['--import', SOCKET_TRACE] : [])];
    proc = new ServiceProcess(stack.dir, traceDir ? { ...stack.env, BENCH_TRACE_DIR: traceDir } : stack.env, flags);
    await proc.ready();
  };
  try {
    if (mode === 'process') await startService();
  } catch (e) {
    await proc?.stop();
    await stack.stop();
    throw e;
  }
  return {
    stack,
    mode,
    nativeDataDir: path.join(stack.server.dir, 'data', datamanagerEncode(NATIVE)),
    async withCore(work) {
      if (mode === 'inline') return work(stack.app.service);
      // One writer: the service stops, the store is opened here (taking its lock), then the service starts again.
      await proc!.stop();
      const core = await openCore(parseConfig(stack.env));
      try {
        await work(core.service);
      } finally {
        core.service.close();
        await core.store.close();
        await startService();
      }
    },
    async stop() {
      await proc?.stop();
      if (profDir) lastServiceProfile = await profileDir(profDir, 20);
      if (traceDir) lastServiceTrace = await traceSummary(traceDir);
      await stack.stop();
    },
  };
}

/** Run an ad-hoc command; a form it returns is submitted with its defaults. Returns the completed <command/>. */
export async function adhoc(user: User, to: string, node: string): Promise<Element> {
  const ask = async (attrs: Record<string, string>, values?: Record<string, string>) => {
    const res: Element = await user.xmpp.iqCaller.request(xml('iq', { type: 'set', to }, command(node, attrs, values)), 30_000);
    return res.getChild('command', NS_COMMANDS);
  };
  let cmd = await ask({ action: 'execute' });
  if (cmd?.attrs.status === 'executing') cmd = await ask({ action: 'complete', sessionid: cmd.attrs.sessionid }, {});
  if (cmd?.attrs.status !== 'completed') throw new Error(`${node} at ${to}: not completed`);
  return cmd;
}

export function uriOf(cmd: Element): string {
  const uri = fieldsOf(formOf(cmd)).uri?.values[0];
  if (!uri) throw new Error('no uri in the command result');
  return uri;
}

const CREATE_ACCOUNT = 'urn:xmpp:invite#create-account';

/** An account token from our ad-hoc command at the component, run by our admin (who is then told of its use). */
export async function ourAccountToken(admin: User): Promise<string> {
  return tokenOf(uriOf(await adhoc(admin, COMPONENT, CREATE_ACCOUNT)));
}

/** An account token from Prosody's own ad-hoc command, run by the native host's admin at the host. */
export async function nativeAccountToken(admin: User): Promise<string> {
  return tokenOf(uriOf(await adhoc(admin, NATIVE, CREATE_ACCOUNT)));
}

/** Entries in native mod_invites' host-wide token file (account invites), or 0 when absent. */
export async function nativePendingCount(b: BenchStack): Promise<number> {
  const text = await fsp.readFile(path.join(b.nativeDataDir, 'invite_token.dat'), 'utf8').catch(() => '');
  return (text.match(/\["token"\]/g) ?? []).length;
}

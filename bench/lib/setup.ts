// One Prosody 0.12 process, two VirtualHosts, set up alike except for who
// handles invites:
//   localhost         our bridge (mod_invites_bridge) + our component and bot (the App)
//   native.localhost  Prosody's own mod_invites, mod_invites_register, mod_invites_adhoc
// Both hosts use the same password hashing cost (SCRAM iteration count) and have
// no registration watchers or throttles, so the only difference is the invite path.
import xml, { type Element } from '@xmpp/xml';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { bridgeOptions } from '../../src/prosody/bridge-setup.js';
import { type Stack, BOT, COMPONENT, COMPONENT_SECRET, DOMAIN, startStack } from '../../test/helpers/stack.js';
import type { User } from '../../test/helpers/xmpp-user.js';

export { DOMAIN };
export const NATIVE = 'native.localhost';
/** Admin of ours (ADMINS of the service) and admin of the native host (Prosody `admins`). */
export const OUR_ADMIN = `boss@${DOMAIN}`;
export const NATIVE_ADMIN = `boss@${NATIVE}`;
/** Prosody's own default (mod_auth_internal_hashed); LocalProsody's 128 is for fast test logins. */
export const ITERATIONS = 10_000;
/** The bot's per-sender command limit, raised so a benchmark is not rate-limited (default 10 per 30 s). */
export const BENCH_RATE_LIMIT = { points: 1_000_000, duration: 1 };

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
  `Prosody 0.12 (one process), hosts ${DOMAIN} (ours) and ${NATIVE} (native), both default_iteration_count=${ITERATIONS}, ` +
  'registration_watchers={}, no registration throttle (min_seconds_between_registrations unset; 127.0.0.1 allowlisted); ' +
  `our store: STORE_FSYNC=${STORE_FSYNC ?? '(default)'}`;

export interface BenchStack {
  stack: Stack;
  nativeDataDir: string;
  stop(): Promise<void>;
}

export async function startBenchStack(env: Record<string, string> = {}): Promise<BenchStack> {
  const bridge = bridgeOptions(COMPONENT, COMPONENT_SECRET);
  // BENCH_BRIDGE_DIR: measure a changed copy of mod_invites_bridge.lua before changing server/prosody.
  const pluginPaths = process.env.BENCH_BRIDGE_DIR ? [process.env.BENCH_BRIDGE_DIR, ...bridge.pluginPaths!] : bridge.pluginPaths;
  const stack = await startStack({ ADMINS: OUR_ADMIN, ...(STORE_FSYNC ? { STORE_FSYNC } : {}), ...env }, {
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
    app: { rateLimit: BENCH_RATE_LIMIT },
  });
  return {
    stack,
    // util/datamanager escapes every non-alphanumeric byte of the host name.
    nativeDataDir: path.join(stack.prosody.dir, 'data', NATIVE.replace(/[^A-Za-z0-9]/g, (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'))),
    stop: () => stack.stop(),
  };
}

/** An account token from our service, created by our admin through the invite core. */
export async function ourAccountToken(stack: Stack): Promise<string> {
  const r = await stack.app.service.create({ jid: OUR_ADMIN }, { kind: 'account' });
  if (!r.ok) throw new Error(r.message);
  return r.token;
}

const NS_COMMANDS = 'http://jabber.org/protocol/commands';

/** Run a one-step ad-hoc command and return its completed <command/>. */
export async function adhoc(user: User, to: string, node: string): Promise<Element> {
  const res: Element = await user.xmpp.iqCaller.request(
    xml('iq', { type: 'set', to }, xml('command', { xmlns: NS_COMMANDS, node, action: 'execute' })), 30_000);
  const cmd = res.getChild('command', NS_COMMANDS);
  if (!cmd || cmd.attrs.status !== 'completed') throw new Error(`${node} at ${to}: not completed`);
  return cmd;
}

export function uriOf(cmd: Element): string {
  const field = cmd.getChild('x', 'jabber:x:data')?.getChildren('field').find((f) => f.attrs.var === 'uri');
  const uri = field?.getChildText('value');
  if (!uri) throw new Error('no uri in the command result');
  return uri;
}

export const tokenOf = (uri: string): string => /preauth=([A-Za-z0-9_-]+)/.exec(uri)![1]!;

/** An account token from Prosody's own ad-hoc command, run by the native host's admin at the host. */
export async function nativeAccountToken(admin: User): Promise<string> {
  return tokenOf(uriOf(await adhoc(admin, NATIVE, 'urn:xmpp:invite#create-account')));
}

/** Entries in native mod_invites' host-wide token file (account invites), or 0 when absent. */
export async function nativePendingCount(b: BenchStack): Promise<number> {
  const text = await fsp.readFile(path.join(b.nativeDataDir, 'invite_token.dat'), 'utf8').catch(() => '');
  return (text.match(/\["token"\]/g) ?? []).length;
}

// Benchmark 7: in-band registration with a token on ejabberd (our bridge and component:
// preauth, then the bridge's register → reserve → account → commit) against ejabberd's
// own token-less in-band registration (mod_register, no bridge) as the floor, on each
// installed ejabberd build. Two private ejabberd processes per build, measured
// interleaved (ours, floor, floor′, ...) from fresh connections, so machine noise falls
// on both; floor′/floor is what the method reads as a difference where there is none.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import { EJABBERD_VERSIONS, ejabberdBuild, ejabberdInstalled } from '../src/server/ejabberd/builds.js';
import { LocalEjabberd } from '../src/server/ejabberd/local-ejabberd.js';
import { type Timed, timedRegistration } from './lib/ibr-client.js';
import { type BenchReport, ms, ratio, summarize, table } from './lib/stats.js';
import { interleaved } from './lib/turns.js';

const DOMAIN = 'localhost';
const BOT = `invitebot@${DOMAIN}`;
const COMPONENT = `invites.${DOMAIN}`;
const SECRET = 'bench-component-secret-1';
const PASSWORD = 'bench-password-1';
const WARMUP = 20;
const COUNT = Number(process.env.BENCH_EJABBERD_COUNT ?? 300);

type Side = 'ours' | 'floor' | 'floor′';
const SIDES: Side[] = ['ours', 'floor', 'floor′'];

async function measure(version: string): Promise<string[]> {
  const build = ejabberdBuild({ ...process.env, EJABBERD_VERSION: version });
  const dir = await mkdtemp(join(tmpdir(), 'invites-bench-ejabberd-'));
  const ours = await LocalEjabberd.start({ build, domain: DOMAIN, admins: [BOT], bridge: true, component: { domain: COMPONENT, secret: SECRET }, registration: 'open' });
  const floor = await LocalEjabberd.start({ build, domain: DOMAIN, registration: 'open' });
  let app: App | undefined;
  try {
    await ours.register('invitebot', PASSWORD);
    app = await App.start(parseConfig({
      XMPP_SERVICE: ours.service, BOT_JID: BOT, BOT_PASSWORD: PASSWORD, COMPONENT_DOMAIN: COMPONENT,
      COMPONENT_SERVICE: ours.componentService, COMPONENT_SECRET: SECRET, STORE_FILE: join(dir, 'invites.json'),
      PREAUTH_LIMIT_EXEMPT: '127.0.0.1,::1',
    }));
    const service = app.service;
    let n = 0;
    const once = async (side: Side): Promise<Timed> => {
      const username = `ibr${++n}`;
      if (side !== 'ours') return timedRegistration(floor.service, DOMAIN, { username, password: PASSWORD });
      // Made just before, untimed: the store holds about no pending invites.
      const made = await service.create({ system: 'cli' }, { kind: 'account' });
      if (!made.ok) throw new Error(made.message);
      return timedRegistration(ours.service, DOMAIN, { token: made.token, username, password: PASSWORD });
    };
    const out = await interleaved(SIDES, once, WARMUP, COUNT);
    const s = Object.fromEntries(SIDES.map((side) => [side, summarize(out[side].map((t) => t.total))])) as Record<Side, ReturnType<typeof summarize>>;
    const reg = (side: Side) => summarize(out[side].map((t) => t.preauth + t.register));
    return [
      `ejabberd ${version}: ${COUNT} sequential registrations per side, interleaved, each from a fresh connection (connect → registration reply):`,
      ...table([
        ['', 'p50', 'p99', 'mean', 'token + register p50'],
        ...SIDES.map((side) => [side === 'ours' ? 'ours (token, bridge)' : `${side} (no token, mod_register)`, ms(s[side].p50), ms(s[side].p99), ms(s[side].mean), ms(reg(side).p50)]),
        ['ours / floor', ratio(s.ours.p50, s.floor.p50), ratio(s.ours.p99, s.floor.p99), ratio(s.ours.mean, s.floor.mean), ratio(reg('ours').p50, reg('floor').p50)],
        ['floor′ / floor (noise)', ratio(s['floor′'].p50, s.floor.p50), ratio(s['floor′'].p99, s.floor.p99), ratio(s['floor′'].mean, s.floor.mean), ratio(reg('floor′').p50, reg('floor').p50)],
      ], 'lrrrr').map((l) => `  ${l}`),
    ];
  } finally {
    await app?.stop();
    await ours.stop();
    await floor.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchReport> {
  const lines: string[] = [];
  for (const version of EJABBERD_VERSIONS) {
    if (!ejabberdInstalled(ejabberdBuild({ ...process.env, EJABBERD_VERSION: version }))) {
      lines.push(`ejabberd ${version}: not installed (bash scripts/setup.sh)`);
      continue;
    }
    lines.push(...(await measure(version)), '');
  }
  return { title: '7. Registration with a token on ejabberd, against its own token-less registration', lines, targets: [] };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatReport } = await import('./lib/stats.js');
  console.log(formatReport(await run()));
}

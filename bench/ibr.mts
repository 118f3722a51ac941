// Benchmark 1: in-band registration with a token (XEP-0445 preauth, then XEP-0077),
// each from a fresh unauthenticated connection: ours (bridge + component) against
// Prosody's own mod_invites + mod_invites_register, on two VirtualHosts of one
// Prosody process, measured interleaved (one ours, one native, ...) so machine
// noise falls on both alike.
import { RegistrationError, type Timed, timedRegistration } from './lib/ibr-client.js';
import { type BenchStack, DOMAIN, NATIVE, NATIVE_ADMIN, SETTINGS_NOTE, nativeAccountToken, nativePendingCount, ourAccountToken, startBenchStack } from './lib/setup.js';
import { type BenchReport, type Target, formatReport, ms, now, ratio, summarize, table } from './lib/stats.js';
import type { User } from '../test/helpers/xmpp-user.js';

const PASSWORD = 'bench-password-1';
const WARMUP = 30;
const SEQUENTIAL = 500;
const CONCURRENT = 200;
const AT_A_TIME = 20;

type Side = 'ours' | 'native';
interface Ctx { b: BenchStack; admin: User; n: number }

const domainOf = (side: Side) => (side === 'ours' ? DOMAIN : NATIVE);
const mint = (ctx: Ctx, side: Side) => (side === 'ours' ? ourAccountToken(ctx.b.stack) : nativeAccountToken(ctx.admin));

async function register(ctx: Ctx, side: Side, token: string): Promise<Timed> {
  const username = `ibr${++ctx.n}`;
  try {
    return await timedRegistration(ctx.b.stack.prosody.service, domainOf(side), { token, username, password: PASSWORD });
  } catch (e) {
    const err = e as RegistrationError;
    throw new Error(`${side} registration of ${username} refused: ${err.message}`);
  }
}

/** Sequential: the token is made just before (untimed), so both stores hold ~no pending invites. */
async function sequential(ctx: Ctx, count: number, pre: 'just-in-time' | 'all-first'): Promise<Record<Side, Timed[]>> {
  const out: Record<Side, Timed[]> = { ours: [], native: [] };
  const tokens: Record<Side, string[]> = { ours: [], native: [] };
  if (pre === 'all-first') {
    for (let i = 0; i < count; i++) for (const side of ['ours', 'native'] as const) tokens[side].push(await mint(ctx, side));
  }
  for (let i = 0; i < count; i++) {
    // Alternate which side goes first, so neither always follows the other.
    const order: Side[] = i % 2 ? ['native', 'ours'] : ['ours', 'native'];
    for (const side of order) {
      const token = pre === 'all-first' ? tokens[side][i]! : await mint(ctx, side);
      out[side].push(await register(ctx, side, token));
    }
  }
  return out;
}

/** Waves of `width` registrations at once; the wave's tokens are made first (untimed). */
async function waves(ctx: Ctx, total: number, width: number): Promise<Record<Side, { samples: Timed[]; elapsed: number }>> {
  const out: Record<Side, { samples: Timed[]; elapsed: number }> = { ours: { samples: [], elapsed: 0 }, native: { samples: [], elapsed: 0 } };
  for (let w = 0; w < total / width; w++) {
    const order: Side[] = w % 2 ? ['native', 'ours'] : ['ours', 'native'];
    for (const side of order) {
      const tokens: string[] = [];
      for (let i = 0; i < width; i++) tokens.push(await mint(ctx, side));
      const t0 = now();
      const samples = await Promise.all(tokens.map((t) => register(ctx, side, t)));
      out[side].elapsed += now() - t0;
      out[side].samples.push(...samples);
    }
  }
  return out;
}

const row = (label: string, s: Timed[]) => {
  const t = summarize(s.map((x) => x.total));
  return [label, String(t.n), ms(t.p50), ms(t.p99), ms(t.mean),
    ms(summarize(s.map((x) => x.open)).p50), ms(summarize(s.map((x) => x.preauth)).p50),
    ms(summarize(s.map((x) => x.register)).p50), ms(summarize(s.map((x) => x.close)).p50)];
};
const HEADER = ['', 'n', 'p50', 'p99', 'mean', 'open p50', 'preauth p50', 'register p50', 'close p50'];

export async function run(): Promise<BenchReport> {
  const b = await startBenchStack();
  const lines: string[] = [SETTINGS_NOTE];
  const targets: Target[] = [];
  try {
    const ctx: Ctx = { b, admin: await b.stack.user(NATIVE_ADMIN), n: 0 };
    await sequential(ctx, WARMUP, 'just-in-time');

    const seq = await sequential(ctx, SEQUENTIAL, 'just-in-time');
    const so = summarize(seq.ours.map((x) => x.total));
    const sn = summarize(seq.native.map((x) => x.total));
    lines.push('', `Sequential, ${SEQUENTIAL} each, interleaved; each token created just before its registration (untimed), so ~0 invites pending. ms, connect → registration reply:`);
    lines.push(...table([HEADER, row('ours', seq.ours), row('native', seq.native)]));
    lines.push(`ratio ours/native: p50 ${ratio(so.p50, sn.p50)}, p99 ${ratio(so.p99, sn.p99)}, mean ${ratio(so.mean, sn.mean)}`);
    const seqThroughput = (s: Timed[]) => s.length / (s.reduce((a, x) => a + x.total + x.close, 0) / 1000);
    lines.push(`throughput (1 at a time, incl. close): ours ${seqThroughput(seq.ours).toFixed(0)}/s, native ${seqThroughput(seq.native).toFixed(0)}/s`);
    targets.push(
      { bench: '1', what: 'sequential p50 ours/native', measured: ratio(so.p50, sn.p50), target: '≤ 1.15', pass: so.p50 / sn.p50 <= 1.15 },
      { bench: '1', what: 'sequential p99 ours/native', measured: ratio(so.p99, sn.p99), target: '≤ 1.15', pass: so.p99 / sn.p99 <= 1.15 },
    );

    const con = await waves(ctx, CONCURRENT, AT_A_TIME);
    const tput = (s: Side) => con[s].samples.length / (con[s].elapsed / 1000);
    const co = summarize(con.ours.samples.map((x) => x.total));
    const cn = summarize(con.native.samples.map((x) => x.total));
    lines.push('', `Concurrent, ${CONCURRENT} each in waves of ${AT_A_TIME} at once (a wave's tokens created first, untimed), waves interleaved:`);
    lines.push(...table([HEADER, row('ours', con.ours.samples), row('native', con.native.samples)]));
    lines.push(`ratio ours/native: p50 ${ratio(co.p50, cn.p50)}, p99 ${ratio(co.p99, cn.p99)}`);
    lines.push(`throughput: ours ${tput('ours').toFixed(0)}/s, native ${tput('native').toFixed(0)}/s, ours/native ${ratio(tput('ours'), tput('native'))}`);
    targets.push({ bench: '1', what: 'concurrent throughput ours/native', measured: ratio(tput('ours'), tput('native')), target: '≥ 0.90', pass: tput('ours') / tput('native') >= 0.9 });

    // For context, not a target: tokens all handed out first, as an admin giving out a batch.
    const batch = await sequential(ctx, SEQUENTIAL, 'all-first');
    const bo = summarize(batch.ours.map((x) => x.total));
    const bn = summarize(batch.native.map((x) => x.total));
    lines.push('', `For context: sequential again, but all ${SEQUENTIAL} tokens of each side created first (${SEQUENTIAL} → 0 pending during the run):`);
    lines.push(...table([HEADER, row('ours', batch.ours), row('native', batch.native)]));
    lines.push(`ratio ours/native: p50 ${ratio(bo.p50, bn.p50)}, p99 ${ratio(bo.p99, bn.p99)}; native pending after: ${await nativePendingCount(b)}`);
  } finally {
    await b.stop();
  }
  return { title: '1. In-band registration with a token', lines, targets };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  console.log(formatReport(r));
}

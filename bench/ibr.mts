// Benchmark 1: in-band registration with a token (XEP-0445 preauth, then XEP-0077),
// each from a fresh unauthenticated connection: ours (bridge + component) against
// Prosody's own mod_invites + mod_invites_register, on two VirtualHosts of one
// Prosody process, measured interleaved (one ours, one native, ...) so machine
// noise falls on both alike. A third, interleaved stream registers on the native
// host again ("native′"): native′/native is what the method reads as a difference
// where there is none, printed beside every ratio.
import { RegistrationError, type Timed, timedRegistration } from './lib/ibr-client.js';
import { type BenchStack, DOMAIN, NATIVE, NATIVE_ADMIN, OUR_ADMIN, SETTINGS_NOTE, nativeAccountToken, nativePendingCount, ourAccountToken, startBenchStack } from './lib/setup.js';
import { type BenchReport, type Target, formatReport, ms, now, ratio, summarize, table } from './lib/stats.js';
import { turnsForever } from './lib/turns.js';
import type { User } from '../test/helpers/xmpp-user.js';

const PASSWORD = 'bench-password-1';
const WARMUP = 30;
/** The 500 sequential, run ROUNDS times: each round is printed, the targets are judged on all of them pooled. */
const SEQUENTIAL = 500;
const ROUNDS = 3;
const CONCURRENT = 200;
const AT_A_TIME = 20;

type Side = 'ours' | 'native' | 'native′';
const SIDES: Side[] = ['ours', 'native', 'native′'];
interface Ctx { b: BenchStack; nativeAdmin: User; ourAdmin: User; n: number }

const domainOf = (side: Side) => (side === 'ours' ? DOMAIN : NATIVE);
const mint = (ctx: Ctx, side: Side) => (side === 'ours' ? ourAccountToken(ctx.ourAdmin) : nativeAccountToken(ctx.nativeAdmin));

async function register(ctx: Ctx, side: Side, token: string): Promise<Timed> {
  const username = `ibr${++ctx.n}`;
  try {
    return await timedRegistration(ctx.b.stack.server.service, domainOf(side), { token, username, password: PASSWORD });
  } catch (e) {
    const err = e as RegistrationError;
    throw new Error(`${side} registration of ${username} refused: ${err.message}`);
  }
}

/** Sequential, the sides interleaved in `turnsForever` order, until each has `count`. */
async function sequential(ctx: Ctx, sides: Side[], count: number, pre: 'just-in-time' | 'all-first'): Promise<Record<Side, Timed[]>> {
  const out = Object.fromEntries(SIDES.map((s) => [s, [] as Timed[]])) as Record<Side, Timed[]>;
  const tokens = Object.fromEntries(SIDES.map((s) => [s, [] as string[]])) as Record<Side, string[]>;
  if (pre === 'all-first') {
    for (let i = 0; i < count; i++) for (const side of sides) tokens[side].push(await mint(ctx, side));
  }
  const order = turnsForever(sides);
  while (sides.some((s) => out[s].length < count)) {
    const side = order.next().value as Side;
    const i = out[side].length;
    if (i === count) continue;
    // Just in time: made right before (untimed), so both stores hold ~no pending invites.
    const token = pre === 'all-first' ? tokens[side][i]! : await mint(ctx, side);
    out[side].push(await register(ctx, side, token));
  }
  return out;
}

/** Waves of `width` registrations at once; the wave's tokens are made first (untimed). */
async function waves(ctx: Ctx, total: number, width: number): Promise<Record<'ours' | 'native', { samples: Timed[]; elapsed: number }>> {
  const out = { ours: { samples: [] as Timed[], elapsed: 0 }, native: { samples: [] as Timed[], elapsed: 0 } };
  for (let w = 0; w < total / width; w++) {
    for (const side of (w % 2 ? ['native', 'ours'] : ['ours', 'native']) as ('ours' | 'native')[]) {
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
  const p50 = (k: keyof Timed) => ms(summarize(s.map((x) => x[k])).p50);
  return [label, String(t.n), ms(t.p50), ms(t.p99), ms(t.mean), p50('open'), p50('preauth'), p50('register'), p50('close')];
};
const HEADER = ['', 'n', 'p50', 'p99', 'mean', 'open p50', 'preauth p50', 'register p50', 'close p50'];
const totals = (s: Timed[]) => summarize(s.map((x) => x.total));
/** "p50 a, p99 b" of x/y. */
const ratios = (x: Timed[], y: Timed[]) => `p50 ${ratio(totals(x).p50, totals(y).p50)}, p99 ${ratio(totals(x).p99, totals(y).p99)}`;

export async function run(): Promise<BenchReport> {
  const b = await startBenchStack();
  const lines: string[] = [SETTINGS_NOTE];
  const targets: Target[] = [];
  try {
    const ctx: Ctx = { b, nativeAdmin: await b.stack.user(NATIVE_ADMIN), ourAdmin: await b.stack.user(OUR_ADMIN), n: 0 };
    await sequential(ctx, SIDES, WARMUP, 'just-in-time');

    lines.push('', `Sequential, ${ROUNDS} rounds of ${SEQUENTIAL} each, interleaved; each token created just before its registration (untimed), so ~0 invites pending. ms, connect → registration reply.`);
    const pooled = Object.fromEntries(SIDES.map((s) => [s, [] as Timed[]])) as Record<Side, Timed[]>;
    const roundRows = [['round', 'ours p50', 'native p50', 'native′ p50', 'ours/native', 'native′/native (no difference)']];
    for (let r = 1; r <= ROUNDS; r++) {
      const seq = await sequential(ctx, SIDES, SEQUENTIAL, 'just-in-time');
      for (const s of SIDES) pooled[s].push(...seq[s]);
      roundRows.push([String(r), ...SIDES.map((s) => ms(totals(seq[s]).p50)), ratios(seq.ours, seq.native), ratios(seq['native′'], seq.native)]);
    }
    lines.push(...table(roundRows, 'lrrrll'), '', `All ${ROUNDS * SEQUENTIAL} of each, pooled:`);
    lines.push(...table([HEADER, ...SIDES.map((s) => row(s, pooled[s]))]));
    const so = totals(pooled.ours), sn = totals(pooled.native);
    lines.push(`ratio ours/native: ${ratios(pooled.ours, pooled.native)}, mean ${ratio(so.mean, sn.mean)}; native′/native: ${ratios(pooled['native′'], pooled.native)}`);
    const seqThroughput = (s: Timed[]) => s.length / (s.reduce((a, x) => a + x.total + x.close, 0) / 1000);
    lines.push(`throughput (1 at a time, incl. close): ours ${seqThroughput(pooled.ours).toFixed(0)}/s, native ${seqThroughput(pooled.native).toFixed(0)}/s`);
    targets.push(
      { bench: '1', what: `sequential p50 ours/native (${ROUNDS}×${SEQUENTIAL} pooled)`, measured: ratio(so.p50, sn.p50), target: '≤ 1.15', pass: so.p50 / sn.p50 <= 1.15 },
      { bench: '1', what: `sequential p99 ours/native (${ROUNDS}×${SEQUENTIAL} pooled)`, measured: ratio(so.p99, sn.p99), target: '≤ 1.15', pass: so.p99 / sn.p99 <= 1.15 },
    );

    const con = await waves(ctx, CONCURRENT, AT_A_TIME);
    const tput = (s: 'ours' | 'native') => con[s].samples.length / (con[s].elapsed / 1000);
    lines.push('', `Concurrent, ${CONCURRENT} each in waves of ${AT_A_TIME} at once (a wave's tokens created first, untimed), waves interleaved:`);
    lines.push(...table([HEADER, row('ours', con.ours.samples), row('native', con.native.samples)]));
    lines.push(`ratio ours/native: ${ratios(con.ours.samples, con.native.samples)}`);
    lines.push(`throughput: ours ${tput('ours').toFixed(0)}/s, native ${tput('native').toFixed(0)}/s, ours/native ${ratio(tput('ours'), tput('native'))}`);
    targets.push({ bench: '1', what: 'concurrent throughput ours/native', measured: ratio(tput('ours'), tput('native')), target: '≥ 0.90', pass: tput('ours') / tput('native') >= 0.9 });

    // For context, not a target: tokens all handed out first, as an admin giving out a batch.
    const batch = await sequential(ctx, ['ours', 'native'], SEQUENTIAL, 'all-first');
    lines.push('', `For context: sequential again, but all ${SEQUENTIAL} tokens of each side created first (${SEQUENTIAL} → 0 pending during the run):`);
    lines.push(...table([HEADER, row('ours', batch.ours), row('native', batch.native)]));
    lines.push(`ratio ours/native: ${ratios(batch.ours, batch.native)}; native pending after: ${await nativePendingCount(b)}`);
  } finally {
    await b.stop();
  }
  return { title: '1. In-band registration with a token', lines, targets };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  console.log(formatReport(r));
}

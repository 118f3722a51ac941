// Benchmark 4: races. 1,000 registrations at once on 1,000 different tokens, and
// 20-way and 200-way races on single-use tokens; ours and Prosody's native
// modules on the same server. Counts come from the server's own account files
// (every racer's username is checked), and for ours also from the invite store.
import fsp from 'node:fs/promises';
import { RegistrationError, type Timed, timedRegistration } from './lib/ibr-client.js';
import { type BenchStack, DOMAIN, NATIVE, NATIVE_ADMIN, OUR_ADMIN, SETTINGS_NOTE, nativeAccountToken, ourAccountToken, startBenchStack } from './lib/setup.js';
import { type BenchReport, type Target, formatReport, ms, now, pool, summarize, table } from './lib/stats.js';
import type { User } from '../test/helpers/xmpp-user.js';

const PASSWORD = 'bench-password-1';
const MANY = 1_000;
const RACES: { width: number; tokens: number }[] = [{ width: 20, tokens: 5 }, { width: 200, tokens: 2 }];
// Native's 1,000-token burst takes about two minutes (Prosody re-reads and rewrites a
// 1,000-entry invite file per step, and stops accepting connections meanwhile): opt in.
const NATIVE_BURST = process.env.BENCH_NATIVE_BURST === '1';

/** Kernel counter: connections dropped because a listen queue was full (Prosody's tcp_backlog is 128). */
async function listenOverflows(): Promise<number> {
  const text = await fsp.readFile('/proc/net/netstat', 'utf8').catch(() => '');
  const [head, values] = text.split('\n').filter((l) => l.startsWith('TcpExt:'));
  if (!head || !values) return NaN;
  return Number(values.split(' ')[head.split(' ').indexOf('ListenOverflows')]);
}

/** The bridge's "did not answer" warnings in Prosody's log, by IQ and error condition. */
async function bridgeWarnings(b: BenchStack): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (const m of (await b.stack.server.readLog()).matchAll(/did not answer (\w+): ([\w-]+)/g)) {
    const k = `${m[1]}: ${m[2]}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  return seen;
}

type Side = 'ours' | 'native';
const domainOf = (side: Side) => (side === 'ours' ? DOMAIN : NATIVE);

interface Outcome {
  /** Registrations the server answered with success. */
  ok: number;
  /** Refusals by text (or condition). */
  refused: Map<string, number>;
  /** Accounts that exist afterwards (from the account files). */
  accounts: number;
  /** Accounts whose success reply never came (should be 0) or replies with no account (lost). */
  lost: number;
  samples: Timed[];
  /** Indexes of the jobs refused. */
  failedAt: Set<number>;
  /** Start of the burst → last reply. */
  elapsed: number;
}

async function burst(b: BenchStack, side: Side, jobs: { token: string; username: string }[]): Promise<Outcome> {
  const t0 = now();
  const results = await Promise.allSettled(jobs.map((j) => timedRegistration(b.stack.server.service, domainOf(side), { ...j, password: PASSWORD })));
  const elapsed = now() - t0;
  const refused = new Map<string, number>();
  const samples: Timed[] = [];
  const failedAt = new Set<number>();
  for (const [i, r] of results.entries()) {
    if (r.status === 'fulfilled') samples.push(r.value);
    else {
      failedAt.add(i);
      const e = r.reason as RegistrationError;
      const why = e.text || e.condition || String(e);
      refused.set(why, (refused.get(why) ?? 0) + 1);
    }
  }
  const exists = await Promise.all(jobs.map((j) => b.stack.server.userExists(j.username, domainOf(side))));
  const okNames = new Set(jobs.filter((_, i) => results[i]!.status === 'fulfilled').map((j) => j.username));
  let lost = 0;
  jobs.forEach((j, i) => { if (okNames.has(j.username) !== exists[i]) lost++; });
  return { ok: samples.length, refused, accounts: exists.filter(Boolean).length, lost, samples, failedAt, elapsed };
}

const refusals = (o: Outcome) => [...o.refused].map(([k, v]) => `${v}× "${k}"`).join(', ') || 'none';

/**
 * Ours: uses per token in the store. A use is written (as a hold) before the bridge
 * lets the account be made, and commits follow the client's reply: wait up to 10 s
 * for `expected`. With the service in its own process, each look stops and restarts it.
 */
async function settledUses(b: BenchStack, tokens: string[], expected: number): Promise<number[]> {
  let uses: number[] = [];
  for (const until = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 50))) {
    await b.withCore(async (service) => { uses = await Promise.all(tokens.map(async (t) => (await service.lookup(t)).invite?.uses.length ?? 0)); });
    if (uses.reduce((a, x) => a + x, 0) >= expected || Date.now() > until) return uses;
  }
}

export async function run(): Promise<BenchReport> {
  const b = await startBenchStack();
  const lines: string[] = [SETTINGS_NOTE, 'Each registration on its own fresh connection; all of a burst started at once (Promise.all).'];
  const targets: Target[] = [];
  let n = 0;
  const name = (side: Side) => `race${side[0]}${++n}`;
  try {
    const admin: User = await b.stack.user(NATIVE_ADMIN);
    const ourAdmin: User = await b.stack.user(OUR_ADMIN);
    const mint = (side: Side) => (side === 'ours' ? ourAccountToken(ourAdmin) : nativeAccountToken(admin));

    // 1,000 different tokens at once.
    const rows: string[][] = [['1,000 at once', 'ok', 'accounts', 'lost', 'p50 ms', 'p99 ms', 'elapsed s', 'per s', 'refusals']];
    for (const side of NATIVE_BURST ? ['ours', 'native'] as const : ['ours'] as const) {
      const tokens: string[] = [];
      for (let i = 0; i < MANY; i++) tokens.push(await mint(side));
      const overflows = await listenOverflows();
      const o = await burst(b, side, tokens.map((token) => ({ token, username: name(side) })));
      const s = summarize(o.samples.map((x) => x.total));
      rows.push([side, String(o.ok), String(o.accounts), String(o.lost), ms(s.p50), ms(s.p99), (o.elapsed / 1000).toFixed(2), (o.ok / (o.elapsed / 1000)).toFixed(0), refusals(o)]);
      lines.push(`${side}: listen-queue overflows during the burst (kernel, whole machine): ${(await listenOverflows()) - overflows}`);
      if (side === 'ours') {
        const warned = [...(await bridgeWarnings(b))].map(([k, v]) => `${v}× ${k}`).join(', ');
        lines.push(`ours: Prosody log, bridge calls that failed: ${warned || 'none'}`);
        const uses = await settledUses(b, tokens, o.accounts);
        const recorded = uses.reduce((a, x) => a + x, 0);
        lines.push(`ours: uses recorded in the store ${recorded} for ${o.accounts} accounts; tokens used more than once: ${uses.filter((u) => u > 1).length}`);
        // What a person told "try again later" meets when they do, right away (20 at a time).
        const failed = tokens.filter((_, i) => o.failedAt.has(i));
        if (failed.length) {
          const again = await pool(20, failed.map((token) => () => timedRegistration(b.stack.server.service, DOMAIN, { token, username: name(side), password: PASSWORD })));
          const why = new Map<string, number>();
          for (const r of again) {
            const k = r.status === 'fulfilled' ? 'registered' : `"${(r.reason as RegistrationError).text || (r.reason as Error).message}"`;
            why.set(k, (why.get(k) ?? 0) + 1);
          }
          lines.push(`ours: the ${failed.length} refused, retried at once (20 at a time): ${[...why].map(([k, v]) => `${v}× ${k}`).join(', ')}`);
        }
        targets.push(
          { bench: '4', what: '1,000 tokens: every registration made its account', measured: `${o.accounts}/${MANY}`, target: `${MANY}`, pass: o.accounts === MANY && o.ok === MANY },
          { bench: '4', what: '1,000 tokens: lost accounts (reply ≠ account, or use unrecorded)', measured: String(o.lost + (o.accounts - recorded)), target: '0', pass: o.lost === 0 && recorded === o.accounts },
        );
      }
    }
    lines.push('', ...table(rows, 'lrrrrrrrl'));
    if (!NATIVE_BURST) lines.push('(native 1,000-token burst skipped: BENCH_NATIVE_BURST=1 runs it, about two minutes)');

    // Races on single-use tokens.
    const raceRows: string[][] = [['race', 'side', 'accounts per token', 'lost', 'elapsed ms', 'refusals']];
    const RACE_ALIGN = 'llrrrl';
    for (const { width, tokens } of RACES) {
      const worst: Record<Side, number> = { ours: 0, native: 0 };
      let lostOurs = 0;
      for (let k = 0; k < tokens; k++) {
        for (const side of (k % 2 ? ['native', 'ours'] : ['ours', 'native']) as Side[]) {
          const token = await mint(side);
          const o = await burst(b, side, Array.from({ length: width }, () => ({ token, username: name(side) })));
          let note = '';
          if (side === 'ours') {
            const [uses] = await settledUses(b, [token], o.accounts);
            if (uses !== o.accounts) note = ` (store records ${uses} uses)`;
            lostOurs += o.lost + Math.abs(uses! - o.accounts);
          }
          worst[side] = Math.max(worst[side], o.accounts);
          raceRows.push([`${width}-way #${k + 1}`, side, `${o.accounts}${note}`, String(o.lost), ms(o.elapsed), refusals(o)]);
        }
      }
      targets.push(
        { bench: '4', what: `${width}-way races (${tokens} tokens): most accounts on one single-use token, ours`, measured: `${worst.ours} (native ${worst.native})`, target: '1', pass: worst.ours === 1 },
        { bench: '4', what: `${width}-way races: lost accounts, ours`, measured: String(lostOurs), target: '0', pass: lostOurs === 0 },
      );
    }
    lines.push('', ...table(raceRows, RACE_ALIGN));
  } finally {
    await b.stop();
  }
  return { title: '4. Races', lines, targets };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  console.log(formatReport(r));
}

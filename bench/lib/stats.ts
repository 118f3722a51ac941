// Small statistics and formatting helpers for the benchmarks. Nothing here
// asserts a time: benchmarks print figures and ratios, they do not fail on them.
import { performance } from 'node:perf_hooks';

export const now = (): number => performance.now();

/** Nearest-rank percentile of a sample (q in 0..1). NaN for an empty sample. */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  const n = samples.length;
  const mean = n ? samples.reduce((a, b) => a + b, 0) / n : NaN;
  return { n, p50: percentile(samples, 0.5), p99: percentile(samples, 0.99), mean, max: n ? Math.max(...samples) : NaN };
}

/** Milliseconds with a sensible number of digits. */
export function ms(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  return x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0);
}

export function ratio(a: number, b: number): string {
  return Number.isFinite(a / b) ? (a / b).toFixed(2) : 'n/a';
}

/**
 * Plain-text table, columns padded; the first row is the header. `align` gives
 * each column 'l' or 'r' (default: first column left, the others right).
 */
export function table(rows: readonly (readonly string[])[], align = ''): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const left = (i: number) => (align[i] ?? (i === 0 ? 'l' : 'r')) === 'l';
  return rows.map((r) => r.map((c, i) => (left(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd());
}

/** Run `tasks` with at most `limit` in flight; results in task order. */
export async function pool<T>(limit: number, tasks: readonly (() => Promise<T>)[]): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await tasks[i]!() };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** A target of the issue, checked against a measured value (printed, never thrown). */
export interface Target {
  bench: string;
  what: string;
  measured: string;
  target: string;
  pass: boolean;
}

export interface BenchReport {
  title: string;
  lines: string[];
  targets: Target[];
}

/** One benchmark run on its own (`npx tsx bench/X.mts`): its lines, then PASS/MISS per target. */
export function formatReport(r: BenchReport): string {
  return [r.title, ...r.lines, ...r.targets.map((t) => `${t.pass ? 'PASS' : 'MISS'} ${t.what}: ${t.measured} (target ${t.target})`)].join('\n');
}

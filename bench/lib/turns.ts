// The order in which interleaved benchmark streams take turns.
import { Prng } from '../../test/helpers/prng.js';

/**
 * One cycle of turns: a de Bruijn sequence of order 2 over sides 0…k−1, so that going
 * round it every side follows every side (itself included) exactly once. What one
 * turn leaves behind (our commit and the inviter's notice, Prosody rewriting its
 * invite file) then falls on each side alike. (Rotating a fixed order does not do
 * this: it keeps who follows whom.)
 */
function turns(k: number): number[] {
  const a = [0, 0, 0];
  const out: number[] = [];
  const visit = (t: number, p: number): void => {
    if (t > 2) {
      if (2 % p === 0) out.push(...a.slice(1, p + 1));
      return;
    }
    a[t] = a[t - p]!;
    visit(t + 1, p);
    for (let j = a[t - p]! + 1; j < k; j++) {
      a[t] = j;
      visit(t + 1, t);
    }
  };
  visit(1, 1);
  return out;
}

/**
 * Turns without end: one `turns` cycle after another, each with the sides in a new
 * seeded random order. The pairs stay balanced; no side keeps a fixed place in the
 * cycle, so what came two or more turns earlier is shuffled too (with one fixed
 * cycle, a control stream read 0.93–0.97 against its identical twin).
 */
export function* turnsForever<T>(sides: readonly T[], seed = 1): Generator<T> {
  const prng = new Prng(seed);
  const cycle = turns(sides.length);
  const order = [...sides];
  for (;;) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = prng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const i of cycle) yield order[i]!;
  }
}

/**
 * Run `once` for each side in turnsForever order: `warmup` untimed rounds of every side
 * first, then until each side has `count` samples (the turns of a side already full are skipped).
 */
export async function interleaved<S extends string, T>(sides: readonly S[], once: (side: S) => Promise<T>, warmup: number, count: number): Promise<Record<S, T[]>> {
  for (let i = 0; i < warmup; i++) for (const s of sides) await once(s);
  const out = Object.fromEntries(sides.map((s) => [s, [] as T[]])) as Record<S, T[]>;
  const order = turnsForever(sides);
  while (sides.some((s) => out[s].length < count)) {
    const s = order.next().value as S;
    if (out[s].length < count) out[s].push(await once(s));
  }
  return out;
}

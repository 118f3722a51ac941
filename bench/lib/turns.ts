// The order in which interleaved benchmark streams take turns.

/**
 * The order of turns: a de Bruijn sequence of order 2 over the sides, so that going
 * round it every side follows every side (itself included) exactly once. What one
 * turn leaves behind (our commit and the inviter's notice, Prosody rewriting its
 * invite file) then falls on each side alike. (Rotating a fixed order does not do
 * this: it keeps who follows whom.)
 */
export function turns<T>(sides: readonly T[]): T[] {
  const k = sides.length;
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
  return out.map((i) => sides[i]!);
}

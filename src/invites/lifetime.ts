// Per-invite lifetimes as every front end takes them: `1h`, `2d`, `4w` (and `30m`,
// `90s`), or `never` (admins only), the syntax of Prosody 13's `--expires-after`.

/** Seconds, or 'never'. */
export type Lifetime = number | 'never';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** The longest lifetime short of `never`: ten years. */
export const MAX_LIFETIME_SECONDS = 10 * 365 * 86_400;

/** `2d` is 172800; `never` is 'never'; anything else (0, `2x`, `-1h`, too long) is undefined. */
export function parseLifetime(text: string): Lifetime | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'never') return 'never';
  const m = /^(\d{1,6})\s*([smhdw])$/.exec(t);
  if (!m) return undefined;
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2]!]!;
  return seconds > 0 && seconds <= MAX_LIFETIME_SECONDS ? seconds : undefined;
}

/** A lifetime as parseLifetime reads it back: 172800 is `2d`, 5400 is `90m`. */
export function lifetimeText(l: Lifetime): string {
  if (l === 'never') return 'never';
  for (const unit of ['w', 'd', 'h', 'm'] as const) {
    if (l % UNIT_SECONDS[unit]! === 0) return `${l / UNIT_SECONDS[unit]!}${unit}`;
  }
  return `${l}s`;
}

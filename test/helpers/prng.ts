// A small seeded PRNG for the fuzz tests (sfc32, seeded through splitmix32), and
// generators of text that is legal in XML 1.0 (anything else would make the
// server close the fuzzer's own stream, which tests the server, not us).
// Same seed, same inputs: a failure names its seed, and FUZZ_SEED=... replays it.

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Code point ranges, all legal XML 1.0 characters, weighted towards the odd ones. */
const RANGES: [number, number][] = [
  [0x20, 0x7e], [0x20, 0x7e], [0x20, 0x7e], // printable ASCII, including < & " '
  [0x09, 0x0a], [0x0d, 0x0d], // tab, line feed, carriage return: the only C0 controls XML allows
  [0x7f, 0x9f], // DEL and the C1 controls: legal in XML 1.0, invisible
  [0xa0, 0xff], // no-break space and Latin-1
  [0x300, 0x36f], // combining marks
  [0x200b, 0x200f], [0x202a, 0x202e], [0x2066, 0x2069], // zero-width and bidi controls
  [0x2028, 0x2029], [0xfeff, 0xfeff], [0xfffd, 0xfffd], // line/paragraph separators, BOM, replacement
  [0x3040, 0x30ff], [0x4e00, 0x4e80], [0x0600, 0x06ff], // kana, CJK, Arabic
  [0x1f300, 0x1f64f], [0x1f900, 0x1f9ff], // emoji (astral: surrogate pairs in JS)
  [0x10000, 0x1000f], [0xe0000, 0xe007f], // astral odds and ends, tag characters
];

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    const mix = splitmix32(seed);
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** 0 ≤ n < max */
  int(max: number): number {
    return Math.floor((this.next() / 0x1_0000_0000) * max);
  }

  /** min ≤ n ≤ max */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** A length that is usually short, sometimes long, rarely huge. */
  length(huge = 20_000): number {
    const r = this.int(100);
    if (r < 70) return this.between(0, 16);
    if (r < 95) return this.between(17, 300);
    return this.between(301, huge);
  }

  /** One legal XML character (a whole code point). */
  char(): string {
    const [lo, hi] = this.pick(RANGES);
    return String.fromCodePoint(this.between(lo, hi));
  }

  /** `n` legal XML characters of every kind. */
  unicode(n = this.length()): string {
    let s = '';
    for (let i = 0; i < n; i++) s += this.char();
    return s;
  }

  /** Letters, digits and the URL-safe token alphabet. */
  ascii(n = this.length(), alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }

  /** Some text: ASCII, unicode, or a mix of words and junk. */
  text(n = this.length()): string {
    switch (this.int(3)) {
      case 0: return this.ascii(n, 'abcdefghijklmnopqrstuvwxyz0123456789 .-_@/:;<>&"\'=?%+#');
      case 1: return this.unicode(n);
      default: return `${this.ascii(this.between(1, 8), 'abcdefghijklmnopqrstuvwxyz')}${this.unicode(Math.min(n, 40))}`;
    }
  }
}

/** The seed of this run: FUZZ_SEED when set (to replay a failure), else a fixed one. */
export function fuzzSeed(fallback: number): number {
  const v = process.env.FUZZ_SEED;
  return v && /^\d+$/.test(v) ? Number(v) >>> 0 : fallback;
}

import { hash, randomFillSync } from 'node:crypto';

// Random bytes come from a pool refilled 4 KiB at a time: one call into the CSPRNG
// per ~150 invites instead of two per invite. On a CPU woken from idle, which is
// how a bot's requests arrive, those calls and the hash took about 45 of the
// 350 µs an invite spent in the service (docs/performance.md, benchmark 2).
const pool = Buffer.alloc(4096);
let taken = pool.length;

/**
 * `use` gets `n` fresh random bytes, which are zeroed when it returns: on a quiet
 * server the pool is refilled only every few weeks, and a core dump should not
 * hold the tokens of invites still open.
 */
function withRandom<T>(n: number, use: (bytes: Buffer) => T): T {
  if (taken + n > pool.length) {
    randomFillSync(pool);
    taken = 0;
  }
  const part = pool.subarray(taken, taken + n);
  taken += n;
  try {
    return use(part);
  } finally {
    part.fill(0);
  }
}

// 18 random bytes = 144 bits, 24 URL-safe characters (the length Prosody uses).
export function newToken(): string {
  return withRandom(18, (b) => b.toString('base64url'));
}

// Tokens carry 144 bits of entropy, so a plain hash is enough: nothing to brute-force.
export function hashToken(token: string): string {
  return hash('sha256', token, 'base64url');
}

const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789'; // no 0/o, 1/l: ids are read aloud and typed

/** Short public id (8 characters, 40 bits), unique among stored invites by the caller's check. */
export function newId(): string {
  return withRandom(8, (bytes) => {
    let id = '';
    for (const b of bytes) id += ID_ALPHABET[b & 31];
    return id;
  });
}

/** A plausible token shape: lets callers reject garbage before hashing it. */
export function looksLikeToken(s: string): boolean {
  return /^[A-Za-z0-9_-]{16,128}$/.test(s);
}

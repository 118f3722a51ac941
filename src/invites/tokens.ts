import { createHash, randomBytes } from 'node:crypto';

// 18 random bytes = 144 bits, 24 URL-safe characters (the length Prosody uses).
export function newToken(): string {
  return randomBytes(18).toString('base64url');
}

// Tokens carry 144 bits of entropy, so a plain hash is enough: nothing to brute-force.
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789'; // no 0/o, 1/l: ids are read aloud and typed

/** Short public id (8 characters, 40 bits), unique among stored invites by the caller's check. */
export function newId(): string {
  const bytes = randomBytes(8);
  let id = '';
  for (const b of bytes) id += ID_ALPHABET[b & 31];
  return id;
}

/** A plausible token shape: lets callers reject garbage before hashing it. */
export function looksLikeToken(s: string): boolean {
  return /^[A-Za-z0-9_-]{16,128}$/.test(s);
}

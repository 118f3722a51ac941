// Usernames an invite may be bound to: a JID localpart (RFC 7622) kept to what
// every server and client handles, compared case-insensitively as Prosody does.
const FORBIDDEN = /["&'/:<>@\s\p{Cc}\p{Cf}]/u;

export function normalizeUsername(input: string): string | null {
  const u = input.normalize('NFKC').toLowerCase();
  if (u.length === 0 || Buffer.byteLength(u) > 1023 || u.length > 64 || FORBIDDEN.test(u)) return null;
  return u;
}

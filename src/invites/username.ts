// Usernames an invite may be bound to: a JID localpart (RFC 7622) kept to what
// every server and client handles, compared case-insensitively as Prosody does.
const FORBIDDEN = /["&'/:<>@\s\p{Cc}\p{Cf}]/u;

export function normalizeUsername(input: string): string | null {
  // Full case folding, as nodeprep's (RFC 3454 B.2) does: "Straße" is "strasse" to Prosody.
  const u = input.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
  if (u.length === 0 || Buffer.byteLength(u) > 1023 || u.length > 64 || FORBIDDEN.test(u)) return null;
  return u;
}

// Usernames an invite may be bound to: a JID localpart (RFC 7622) kept to what
// every server and client handles, compared case-insensitively as Prosody does.
const FORBIDDEN = /["&'/:<>@\s\p{Cc}\p{Cf}]/u;

/**
 * Our approximation of nodeprep, for when the server cannot be asked. It maps more
 * than nodeprep does (toUpperCase turns "ı" into "I"), so it is used only to store
 * an invite's username, never to compare a registration with one.
 */
export function normalizeUsername(input: string): string | null {
  // Full case folding, as nodeprep's (RFC 3454 B.2) does: "Straße" is "strasse" to Prosody.
  const u = input.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
  return isValidUsername(u) ? u : null;
}

/** A normalised username we accept: not empty, not too long, none of the characters a JID or a URI cannot carry plainly. */
export function isValidUsername(u: string): boolean {
  return u.length > 0 && Buffer.byteLength(u) <= 1023 && u.length <= 64 && !FORBIDDEN.test(u);
}

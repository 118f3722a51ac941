// Usernames an invite may be bound to: a JID localpart (RFC 7622) kept to what
// every server and client handles, compared case-insensitively as Prosody does.
const FORBIDDEN = /["&'/:<>@\s\p{Cc}\p{Cf}]/u;

/**
 * A username as we keep it when the server cannot be asked how it writes it (no bridge,
 * the bridge not answering, an instance that does not lead): only ASCII letters are
 * lower-cased, which is all nodeprep does to ASCII; anything else is kept as typed, so
 * the server's own nodeprep of what we keep is its nodeprep of what was typed (the same
 * account). A wider folding once turned a reset for "alıce" into one for "alice".
 */
export function unpreppedUsername(input: string): string | null {
  const u = input.trim().replace(/[A-Z]+/g, (m) => m.toLowerCase());
  return isValidUsername(u) ? u : null;
}

/** A normalised username we accept: not empty, not too long, none of the characters a JID or a URI cannot carry plainly. */
export function isValidUsername(u: string): boolean {
  return u.length > 0 && Buffer.byteLength(u) <= 1023 && u.length <= 64 && !FORBIDDEN.test(u);
}

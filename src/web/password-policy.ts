// What the web form accepts as a new password. Long enough to resist guessing,
// and nothing a client could mangle at login (SASLprep drops control characters).
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

/** Why this password is refused, in words for the person typing it, or undefined. */
export function passwordProblem(password: string, confirm: string, username?: string): string | undefined {
  // Counted in characters as a person sees them, not UTF-16 units.
  const length = [...password].length;
  if (length === 0) return 'Choose a password.';
  if (length < MIN_PASSWORD_LENGTH) return `The password is too short: use at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (length > MAX_PASSWORD_LENGTH) return `The password is too long: use at most ${MAX_PASSWORD_LENGTH} characters.`;
  if (/[\p{Cc}\p{Cf}]/u.test(password)) return 'The password cannot contain control or invisible characters.';
  if (new Set(password).size < 4) return 'The password is too simple: use more different characters.';
  if (username && password.toLowerCase() === username.toLowerCase()) return 'The password cannot be the same as the username.';
  if (password !== confirm) return 'The two passwords do not match.';
  return undefined;
}

// What the web form accepts as a new password. Long enough to resist guessing,
// and nothing a client could mangle at login (SASLprep drops control characters).
import { type T, translator } from '../i18n/i18n.js';
import { localize, type Said } from '../invites/policy.js';
import { webSaid } from './said.js';

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

const said = (key: string, vars?: Record<string, string | number>): Said => webSaid(`web.password.${key}`, vars);

/** Why this password is refused (a catalogue key, web.password.*), or undefined. */
export function passwordRefusal(password: string, confirm: string, username?: string): Said | undefined {
  // Counted in characters as a person sees them, not UTF-16 units.
  const length = [...password].length;
  if (length === 0) return said('empty');
  if (length < MIN_PASSWORD_LENGTH) return said('short', { min: MIN_PASSWORD_LENGTH });
  if (length > MAX_PASSWORD_LENGTH) return said('long', { max: MAX_PASSWORD_LENGTH });
  if (/[\p{Cc}\p{Cf}]/u.test(password)) return said('control');
  if (new Set(password).size < 4) return said('simple');
  if (username && password.toLowerCase() === username.toLowerCase()) return said('sameAsUsername');
  if (password !== confirm) return said('mismatch');
  return undefined;
}

/** Why this password is refused, in words for the person typing it (English unless `t` says), or undefined. */
export function passwordProblem(password: string, confirm: string, username?: string, t: T = translator('en')): string | undefined {
  const r = passwordRefusal(password, confirm, username);
  return r && localize(r, t);
}

// A sentence of the web catalogue as the core words its refusals (policy.ts's Said):
// the key and values for the visitor's language, the English for logs.
import { translator } from '../i18n/i18n.js';
import type { Said } from '../invites/policy.js';

export function webSaid(key: string, vars?: Record<string, string | number>): Said {
  return { message: translator('en')(key, vars), key, ...(vars ? { vars } : {}) };
}

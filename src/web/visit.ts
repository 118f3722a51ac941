// Who is looking at a page: their language (?lang=, then the `lang` cookie, then
// Accept-Language, then DEFAULT_LANGUAGE) and their device (from the User-Agent, on the
// server: the pages run no scripts).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isLang, type Lang, LANGUAGE_NAMES, LANGUAGES, langOf, pickLanguage, type T, translator } from '../i18n/i18n.js';

/** The platforms of the client list that a device is matched to. */
export type Device = 'android' | 'ios' | 'desktop';

/**
 * The visitor's device, or undefined (show every platform). iPadOS Safari sends a Mac
 * User-Agent by default: a plain Mac UA is a computer (a Mac app is right there too).
 */
export function deviceOf(userAgent: string | undefined): Device | undefined {
  const ua = userAgent ?? '';
  if (/\bAndroid\b/i.test(ua)) return 'android';
  if (/\b(iPhone|iPad|iPod)\b/.test(ua)) return 'ios';
  if (/\b(Windows NT|Macintosh|Mac OS X|X11|Linux|CrOS)\b/.test(ua)) return 'desktop';
  return undefined;
}

export interface Visit {
  lang: Lang;
  t: T;
  device?: Device;
  /** The same page in each language: `?lang=xx` with the page's other query fields kept. */
  languages: { lang: Lang; name: string; href: string; current: boolean }[];
}

export const LANG_COOKIE = 'lang';

function queryOf(req: FastifyRequest): Record<string, string> {
  const q = (req.query ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(q).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/**
 * The visit of `req`; a valid `?lang=` is remembered in the `lang` cookie (path: the pages'
 * base, SameSite=Lax) so the next page is in it too.
 */
export function visitOf(req: FastifyRequest, reply: FastifyReply | undefined, opts: { fallback: Lang; base: string; secure: boolean }): Visit {
  let query: Record<string, string> = {};
  try { query = queryOf(req); } catch { /* a request fastify could not parse */ }
  const asked = langOf(query.lang);
  const cookie = (req as { cookies?: Record<string, string | undefined> }).cookies?.[LANG_COOKIE];
  const lang = asked ?? (isLang(cookie) ? cookie : pickLanguage(req.headers['accept-language'], opts.fallback));
  if (asked && asked !== cookie && reply && typeof reply.setCookie === 'function') {
    reply.setCookie(LANG_COOKIE, asked, { path: opts.base || '/', sameSite: 'lax', secure: opts.secure, httpOnly: true, maxAge: 365 * 86400 });
  }
  const device = deviceOf(req.headers['user-agent']);
  const languages = LANGUAGES.map((l) => ({
    lang: l,
    name: LANGUAGE_NAMES[l],
    href: `?${new URLSearchParams({ ...query, lang: l }).toString()}`,
    current: l === lang,
  }));
  return { lang, t: translator(lang), ...(device ? { device } : {}), languages };
}

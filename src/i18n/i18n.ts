// Every sentence a person reads, in their language: i18next over one catalogue
// per language (locales/LANG.json, sections common, bot, adhoc, web), and the
// wording of dates and lifetimes through Intl in that language.
import { readFileSync } from 'node:fs';
import i18next, { type TFunction } from 'i18next';

export const LANGUAGES = ['en', 'de', 'fr', 'es'] as const;
export type Lang = (typeof LANGUAGES)[number];
/** Each language's name in itself, for the language switch. */
export const LANGUAGE_NAMES: Record<Lang, string> = { en: 'English', de: 'Deutsch', fr: 'Français', es: 'Español' };

export const isLang = (x: unknown): x is Lang => typeof x === 'string' && (LANGUAGES as readonly string[]).includes(x);

export type Catalogue = Record<string, unknown>;

export function readCatalogue(lang: Lang): Catalogue {
  return JSON.parse(readFileSync(new URL(`../../locales/${lang}.json`, import.meta.url), 'utf8')) as Catalogue;
}

const i18n = i18next.createInstance();
void i18n.init({
  resources: Object.fromEntries(LANGUAGES.map((l) => [l, { translation: readCatalogue(l) }])),
  lng: 'en',
  fallbackLng: 'en',
  supportedLngs: [...LANGUAGES],
  // Pages escape in their templates; chat, forms and IQ errors are plain text.
  interpolation: { escapeValue: false },
  returnNull: false,
  initAsync: false,
});

export type T = TFunction;

/** Options that change what i18next returns (defaultValue only matters when the key is missing, which goes to i18next). */
const I18NEXT_OPTIONS: ReadonlySet<string> = new Set([
  'count', 'context', 'lng', 'lngs', 'fallbackLng', 'ns', 'keyPrefix', 'returnObjects', 'returnDetails', 'joinArrays',
  'ordinal', 'replace', 'interpolation', 'postProcess', 'skipInterpolation', 'nsSeparator', 'keySeparator',
]);
const PLACEHOLDER = /\{\{\s*(\w+)\s*\}\}/g;
/** A sentence with only `{{name}}` placeholders: no nesting (`$t(`), no formats (`{{x, number}}`). */
const isPlain = (s: string) => !s.includes('$t(') && !s.replace(PLACEHOLDER, '').includes('{{');

/**
 * The translator of one language. i18next takes 5 to 25 µs a call (it copies its options
 * for every one), and a page makes 60 or more: a plain sentence (no `count`, no nesting)
 * is looked up once per key and filled in here, exactly as i18next fills it in (a unit
 * test compares both on every key of every catalogue); everything else goes to i18next.
 */
function makeTranslator(lang: Lang): T {
  const full = i18n.getFixedT(lang);
  const plain = new Map<string, string | null>();
  const fast = (key: string, vars?: Record<string, unknown>): string | undefined => {
    if (vars !== undefined && (typeof vars !== 'object' || Object.keys(vars).some((k) => I18NEXT_OPTIONS.has(k)))) return undefined;
    let raw = plain.get(key);
    if (raw === undefined) {
      const found = i18n.getResource(lang, 'translation', key) ?? i18n.getResource('en', 'translation', key);
      raw = typeof found === 'string' && isPlain(found) ? found : null;
      plain.set(key, raw);
    }
    if (raw === null) return undefined;
    return raw.replace(PLACEHOLDER, (whole, name: string) => {
      const v = vars?.[name];
      return v === undefined || v === null ? whole : String(v);
    });
  };
  return ((key: string, vars?: Record<string, unknown>) => (typeof key === 'string' ? fast(key, vars) : undefined) ?? full(key, vars as never)) as T;
}

const translators = new Map<Lang, T>(LANGUAGES.map((l) => [l, makeTranslator(l)]));
const slow = new Map<Lang, T>(LANGUAGES.map((l) => [l, i18n.getFixedT(l)]));

/** `t(key, vars)` in `lang`; a key missing there falls back to English. */
export function translator(lang: Lang): T {
  return translators.get(lang)!;
}

/** i18next's own translator, for the test that the fast path says the same. */
export function i18nextTranslator(lang: Lang): T {
  return slow.get(lang)!;
}

/** The primary subtag of a language tag ("de-AT" → "de"), when we have it. */
export function langOf(tag: string | undefined): Lang | undefined {
  const primary = tag?.trim().toLowerCase().split(/[-_]/)[0];
  return isLang(primary) ? primary : undefined;
}

/**
 * The best of our languages for an Accept-Language header ("de-AT,de;q=0.9,en;q=0.5")
 * or a single xml:lang; `fallback` when none matches.
 */
export function pickLanguage(header: string | undefined, fallback: Lang = 'en'): Lang {
  if (!header) return fallback;
  let best: { lang: Lang; q: number; at: number } | undefined;
  header.split(',').slice(0, 30).forEach((part, at) => {
    const [tag, ...params] = part.split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    const lang = langOf(tag);
    if (!lang || !(q > 0)) return;
    if (!best || q > best.q) best = { lang, q, at };
  });
  return best?.lang ?? fallback;
}

const dateFormats = new Map<Lang, Intl.DateTimeFormat>();
const relativeFormats = new Map<Lang, Intl.RelativeTimeFormat>();

/** "1 December 2026, 15:00 UTC", in the language's own order. */
export function formatDate(at: string | Date, lang: Lang): string {
  let f = dateFormats.get(lang);
  if (!f) {
    f = new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : lang, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });
    dateFormats.set(lang, f);
  }
  return `${f.format(new Date(at))} UTC`;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * "in 7 days", "in 3 hours", "2 minutes ago". Each unit is rounded before the next is
 * chosen, so 23 h 59 min is "in 1 day" (as at creation), never "in 24 hours".
 */
export function formatRelative(at: string | Date, now: Date, lang: Lang): string {
  let f = relativeFormats.get(lang);
  if (!f) {
    f = new Intl.RelativeTimeFormat(lang, { numeric: 'always' });
    relativeFormats.set(lang, f);
  }
  const ms = new Date(at).getTime() - now.getTime();
  const abs = Math.abs(ms);
  const sign = ms < 0 ? -1 : 1;
  const minutes = Math.round(abs / MINUTE);
  if (minutes < 60) return f.format(sign * Math.max(minutes, 1), 'minute');
  const hours = Math.round(abs / HOUR);
  if (hours < 24) return f.format(sign * hours, 'hour');
  return f.format(sign * Math.round(abs / DAY), 'day');
}

/** The expiry of an invite that never expires (src/invites/types.ts NEVER; any time from the year 9999 on). */
export function isNever(at: string | Date): boolean {
  const ms = new Date(at).getTime();
  return Number.isNaN(ms) ? false : new Date(ms).getUTCFullYear() >= 9999;
}

/**
 * The one wording of an expiry, everywhere: "1 December 2026, 15:00 UTC (in 7 days)";
 * for an invite that never expires, the language's "never expires" (a sentence around
 * it then takes its own key for never: "Valid until never expires" is no sentence).
 */
export function formatExpiry(at: string | Date, now: Date, lang: Lang): string {
  if (isNever(at)) return translator(lang)('common.neverExpires');
  return `${formatDate(at, lang)} (${formatRelative(at, now, lang)})`;
}

const durationFormats = new Map<string, Intl.NumberFormat>();

/** A length of time in words: 604800 is "1 week", 172800 "2 days", 5400 "90 minutes" (the largest whole unit). */
export function formatDuration(seconds: number, lang: Lang): string {
  const units = [['week', 604_800], ['day', 86_400], ['hour', 3600], ['minute', 60]] as const;
  const [unit, size] = units.find(([, n]) => seconds >= n && seconds % n === 0) ?? ['second', 1];
  const key = `${lang} ${unit}`;
  let f = durationFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(lang, { style: 'unit', unit, unitDisplay: 'long' });
    durationFormats.set(key, f);
  }
  return f.format(seconds / size);
}

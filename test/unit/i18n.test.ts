// The catalogues (locales/*.json) and the wording of dates: a catalogue that lacks a
// key another has fails here, before a person meets an English sentence in German.
import { expect } from 'chai';
import { formatDuration, formatExpiry, formatRelative, i18nextTranslator, isNever, LANGUAGES, type Lang, pickLanguage, readCatalogue, translator } from '../../src/i18n/i18n.js';
import { NEVER } from '../../src/invites/types.js';

const PLURAL = /_(zero|one|two|few|many|other)$/;

function flatten(o: Record<string, unknown>, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'string') out.set(prefix + k, v);
    else for (const [kk, vv] of flatten(v as Record<string, unknown>, `${prefix}${k}.`)) out.set(kk, vv);
  }
  return out;
}

const catalogues = new Map<Lang, Map<string, string>>(LANGUAGES.map((l) => [l, flatten(readCatalogue(l))]));
const vars = (s: string) => [...s.matchAll(/\{\{\s*([\w.]+)/g)].map((m) => m[1]).sort().join(',');

describe('i18n: the catalogues', () => {
  it('have English, German, French and Spanish', () => {
    expect([...LANGUAGES]).to.include.members(['en', 'de', 'fr', 'es']);
  });

  it('each have every key another has (plural forms as each language needs them)', () => {
    const bases = new Set<string>();
    const plural = new Set<string>();
    for (const c of catalogues.values()) {
      for (const k of c.keys()) {
        const base = k.replace(PLURAL, '');
        bases.add(base);
        if (base !== k) plural.add(base);
      }
    }
    const missing: string[] = [];
    for (const [lang, c] of catalogues) {
      const categories = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
      for (const base of bases) {
        if (plural.has(base)) {
          for (const cat of categories) if (!c.has(`${base}_${cat}`)) missing.push(`${lang}: ${base}_${cat}`);
        } else if (!c.has(base)) missing.push(`${lang}: ${base}`);
      }
    }
    expect(missing, missing.join('\n')).to.deep.equal([]);
  });

  it('use the same {{placeholders}} in every language', () => {
    const en = catalogues.get('en')!;
    const wrong: string[] = [];
    for (const [lang, c] of catalogues) {
      for (const [k, v] of c) {
        const base = en.get(k) ?? en.get(k.replace(PLURAL, '_other'));
        if (base !== undefined && vars(base) !== vars(v)) wrong.push(`${lang}: ${k} has {${vars(v)}}, English {${vars(base)}}`);
      }
    }
    expect(wrong, wrong.join('\n')).to.deep.equal([]);
  });

  it('are translated: German, French and Spanish differ from English in most entries', () => {
    const en = catalogues.get('en')!;
    for (const lang of LANGUAGES.filter((l) => l !== 'en')) {
      const c = catalogues.get(lang)!;
      const same = [...c].filter(([k, v]) => en.get(k) === v && /[a-z]{4}/i.test(v)).map(([k]) => k);
      expect(same.length / c.size, `${lang}: ${same.length} of ${c.size} entries are the English text: ${same.slice(0, 10).join(', ')}`).to.be.below(0.05);
    }
  });
});

describe('i18n: choosing a language', () => {
  it('takes the best of ours from Accept-Language, by q-value, then order', () => {
    expect(pickLanguage('de-AT,de;q=0.9,en;q=0.5')).to.equal('de');
    expect(pickLanguage('pt-BR,fr;q=0.7,es;q=0.8')).to.equal('es');
    expect(pickLanguage('fr-CA')).to.equal('fr');
    expect(pickLanguage('*')).to.equal('en');
    expect(pickLanguage('pt,it;q=0.5', 'de')).to.equal('de');
    expect(pickLanguage('de;q=0, es')).to.equal('es');
    expect(pickLanguage(undefined, 'fr')).to.equal('fr');
    expect(pickLanguage('ES')).to.equal('es');
  });
});

describe('i18n: dates and lifetimes', () => {
  const now = new Date('2026-11-21T12:00:00Z');
  const later = (ms: number) => new Date(now.getTime() + ms);

  it('words one expiry the same at creation and a minute later ("in 1 day", never "in 24 hours")', () => {
    expect(formatRelative(later(86_400_000), now, 'en')).to.equal('in 1 day');
    expect(formatRelative(later(86_400_000 - 60_000), now, 'en')).to.equal('in 1 day');
    expect(formatRelative(later(7 * 86_400_000 - 3_600_000), now, 'en')).to.equal('in 7 days');
    expect(formatRelative(later(3 * 3_600_000), now, 'en')).to.equal('in 3 hours');
    expect(formatRelative(later(90_000), now, 'en')).to.equal('in 2 minutes');
    expect(formatRelative(later(-2 * 86_400_000), now, 'en')).to.equal('2 days ago');
  });

  it('words dates and lifetimes in each language', () => {
    const at = later(7 * 86_400_000);
    expect(formatExpiry(at, now, 'en')).to.equal('28 November 2026 at 12:00 UTC (in 7 days)');
    expect(formatExpiry(at, now, 'de')).to.equal('28. November 2026 um 12:00 UTC (in 7 Tagen)');
    expect(formatExpiry(at, now, 'fr')).to.equal('28 novembre 2026 à 12:00 UTC (dans 7 jours)');
    expect(formatExpiry(at, now, 'es')).to.equal('28 de noviembre de 2026 a las 12:00 UTC (dentro de 7 días)');
  });

  it('falls back to English for a key a catalogue lacks, and fills in values', () => {
    const t = translator('de');
    expect(t('common.no.such.key' as never)).to.equal('common.no.such.key');
    expect(translator('en')('common.refusal.foreignDomain', { domain: 'example.org' })).to.equal('Only accounts on example.org can create invites.');
  });
});

describe('i18n: the fast path of plain sentences', () => {
  it('says exactly what i18next says, for every key of every catalogue, with and without values', () => {
    const differ: string[] = [];
    for (const [lang, c] of catalogues) {
      const fast = translator(lang);
      const slow = i18nextTranslator(lang);
      for (const key of c.keys()) {
        if (PLURAL.test(key)) continue;
        const names = [...new Set([...(c.get(key)!.matchAll(/\{\{\s*(\w+)\s*\}\}/g))].map((m) => m[1]!))];
        const some = Object.fromEntries(names.map((n, i) => [n, `<v${i} & "x">`]));
        const fewer = Object.fromEntries(names.slice(1).map((n) => [n, 7]));
        for (const vars of [undefined, some, fewer, { defaultValue: 'unused' }]) {
          const a = fast(key, vars as never);
          const b = slow(key, vars as never);
          if (a !== b) differ.push(`${lang} ${key} ${JSON.stringify(vars)}: ${a} | ${b}`);
        }
      }
    }
    expect(differ, differ.slice(0, 5).join('\n')).to.deep.equal([]);
  });

  it('leaves plurals and missing keys to i18next', () => {
    expect(translator('en')('common.no.such.key' as never, { defaultValue: 'fallback' })).to.equal('fallback');
    expect(translator('de')('common.refusal.quotaPending', { count: 1 })).to.equal(i18nextTranslator('de')('common.refusal.quotaPending', { count: 1 }));
  });
});

describe('i18n: invites that never expire, and lengths of time', () => {
  const now = new Date('2026-11-21T12:00:00Z');
  it('words NEVER as the language\'s "never expires", never as a date in the year 9999', () => {
    expect(isNever(NEVER)).to.equal(true);
    expect(isNever('2026-11-28T12:00:00.000Z')).to.equal(false);
    expect(LANGUAGES.map((l) => formatExpiry(NEVER, now, l))).to.deep.equal(['never expires', 'läuft nie ab', 'n’expire jamais', 'no caduca nunca']);
    expect(formatExpiry('2026-11-28T12:00:00.000Z', now, 'en')).to.equal('28 November 2026 at 12:00 UTC (in 7 days)');
  });
  it('says a lifetime in its largest whole unit', () => {
    expect(formatDuration(604_800, 'en')).to.equal('1 week');
    expect(formatDuration(172_800, 'de')).to.equal('2 Tage');
    expect(formatDuration(5400, 'fr')).to.equal('90 minutes');
    expect(formatDuration(90, 'es')).to.equal('90 segundos');
  });
});

// A strict reader of the OpenMetrics 1.0 text format (the parts we emit: counters and
// gauges, HELP/TYPE/UNIT, labels), so the tests check the format itself, not only
// that a line they look for is somewhere in the text. Throws naming the bad line.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  type: string;
  help?: string;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const TYPES = new Set(['counter', 'gauge', 'histogram', 'gaugehistogram', 'stateset', 'info', 'summary', 'unknown']);
/** The ABNF's `number`: case-insensitive NaN and Inf(inity), or a real number. */
const VALUE = /^(nan|[+-]?inf(inity)?|[+-]?(\d+(\.\d*)?|\d*\.\d+)(e[+-]?\d+)?)$/i;
const SAMPLE = new RegExp(`^(${NAME})(\\{(.*)\\})? (\\S+)( \\S+)?$`);
/** Sample names a family may have, by type (OpenMetrics 1.0, section "Metric types"). */
const SUFFIXES: Record<string, string[]> = { counter: ['_total', '_created'], gauge: [''], unknown: [''], info: ['_info'] };

function toNumber(v: string): number {
  if (/^nan$/i.test(v)) return Number.NaN;
  if (/inf/i.test(v)) return v.startsWith('-') ? -Infinity : Infinity;
  return Number(v);
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = new RegExp(`(${LABEL})="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"(,|$)`, 'y');
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw new Error(`${where}: bad labels: ${text}`);
    if (m[1]! in labels) throw new Error(`${where}: label ${m[1]} twice`);
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    at = re.lastIndex;
    if (m[3] === '' && at < text.length) throw new Error(`${where}: bad labels: ${text}`);
  }
  return labels;
}

/** The metric families of an exposition, by name; throws on anything OpenMetrics 1.0 does not allow. */
export function parseOpenMetrics(text: string): Map<string, Family> {
  if (!text.endsWith('\n# EOF\n') && text !== '# EOF\n') throw new Error('does not end with "# EOF" and a newline');
  const lines = text.slice(0, -'# EOF\n'.length).split('\n').slice(0, -1);
  const families = new Map<string, Family>();
  const done = new Set<string>(); // families are contiguous: one never comes back
  let current: string | undefined;
  const enter = (name: string, where: string) => {
    if (name !== current) {
      if (done.has(name)) throw new Error(`${where}: family ${name} continues after another began`);
      if (current) done.add(current);
      current = name;
    }
  };
  lines.forEach((line, i) => {
    const where = `line ${i + 1} (${JSON.stringify(line)})`;
    if (line === '') throw new Error(`${where}: empty line`);
    const meta = new RegExp(`^# (HELP|TYPE|UNIT) (${NAME})(?: (.*))?$`).exec(line);
    if (line.startsWith('#')) {
      if (!meta) throw new Error(`${where}: not HELP, TYPE or UNIT`);
      const [, kind, name, rest = ''] = meta as unknown as [string, string, string, string?];
      enter(name, where);
      const fam = families.get(name) ?? { type: 'unknown', samples: [] };
      if (fam.samples.length) throw new Error(`${where}: metadata after samples`);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type`);
        if (rest === 'counter' && name.endsWith('_total')) throw new Error(`${where}: a counter family's name must not end in _total`);
        fam.type = rest;
      } else if (kind === 'HELP') {
        fam.help = rest;
      }
      families.set(name, fam);
      return;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`${where}: not a sample`);
    const [, name, , labelText = '', value] = m as unknown as [string, string, string | undefined, string | undefined, string];
    if (!VALUE.test(value)) throw new Error(`${where}: bad value`);
    const family = [...families.keys()].find((f) => f === current && (SUFFIXES[families.get(f)!.type] ?? ['']).some((s) => name === f + s));
    if (!family) throw new Error(`${where}: sample of no declared family, or a name its type does not allow`);
    families.get(family)!.samples.push({ name, labels: parseLabels(labelText, where), value: toNumber(value) });
  });
  return families;
}

/** The value of the sample `name` whose labels include `labels`; undefined when there is none. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const fam of families.values()) {
    const s = fam.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
    if (s) return s.value;
  }
  return undefined;
}

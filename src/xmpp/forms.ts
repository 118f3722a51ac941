// XEP-0004 data forms: building and reading <x xmlns='jabber:x:data'/>.
// xmpp.js 0.14 has no forms package, and StanzaJS brings a second XML stack.
import { type Element, xml } from './stanzas.js';

export const NS_DATA = 'jabber:x:data';

export type FieldType =
  | 'boolean' | 'fixed' | 'hidden' | 'jid-multi' | 'jid-single'
  | 'list-multi' | 'list-single' | 'text-multi' | 'text-private' | 'text-single';

export interface Option {
  value: string;
  label?: string;
}

export interface Field {
  var?: string;
  type?: FieldType;
  label?: string;
  desc?: string;
  required?: boolean;
  values?: readonly string[];
  options?: readonly Option[];
}

export interface FormContent {
  title?: string;
  instructions?: string;
  fields?: readonly Field[];
  /** A table (XEP-0004 §3.4): the columns, then one item per row, values by column var. */
  reported?: readonly Field[];
  items?: readonly Record<string, string | undefined>[];
}

export function field(f: Field): Element {
  return xml('field', { var: f.var, type: f.type, label: f.label },
    ...(f.desc ? [xml('desc', {}, f.desc)] : []),
    ...(f.required ? [xml('required', {})] : []),
    ...(f.values ?? []).map((v) => xml('value', {}, v)),
    ...(f.options ?? []).map((o) => xml('option', { label: o.label }, xml('value', {}, o.value))));
}

export function dataForm(type: 'form' | 'result' | 'submit' | 'cancel', content: FormContent = {}): Element {
  const { reported, items = [] } = content;
  return xml('x', { xmlns: NS_DATA, type },
    ...(content.title ? [xml('title', {}, content.title)] : []),
    ...(content.instructions ? [xml('instructions', {}, content.instructions)] : []),
    ...(content.fields ?? []).map(field),
    ...(reported ? [xml('reported', {}, ...reported.map((c) => field({ var: c.var, type: c.type, label: c.label })))] : []),
    ...(reported ? items.map((row) => xml('item', {}, ...reported.map((c) => field({ var: c.var, values: [row[c.var!] ?? ''] })))) : []));
}

/** The hidden FORM_TYPE field that names a form's registered meaning. */
export function formTypeField(ns: string): Field {
  return { var: 'FORM_TYPE', type: 'hidden', values: [ns] };
}

/** Submitted values by field var. Repeated vars are merged; a form of another namespace gives nothing. */
export function formValues(x: Element | undefined): Map<string, string[]> {
  const values = new Map<string, string[]>();
  if (!x || x.attrs.xmlns !== NS_DATA) return values;
  for (const f of x.getChildren('field')) {
    const name = f.attrs.var;
    if (typeof name !== 'string' || !name) continue;
    const list = values.get(name) ?? [];
    list.push(...f.getChildren('value').map((v) => v.text()));
    values.set(name, list);
  }
  return values;
}

/** A single value, trimmed; undefined when absent or blank. */
export function singleValue(values: Map<string, string[]>, name: string): string | undefined {
  const v = values.get(name)?.[0]?.trim();
  return v ? v : undefined;
}

/** XEP-0004 booleans are "1"/"true" and "0"/"false"; anything else is undefined. */
export function booleanValue(values: Map<string, string[]>, name: string): boolean | undefined {
  const v = singleValue(values, name)?.toLowerCase();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  return undefined;
}

/** XEP-0082 DateTime in UTC without fractions, as Prosody writes it: 2026-11-28T14:03:00Z. */
export function dateTime(at: Date | string): string {
  return new Date(at).toISOString().replace(/\.\d+Z$/, 'Z');
}

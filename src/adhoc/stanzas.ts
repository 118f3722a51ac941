// The XEP-0050 and XEP-0030 elements the ad-hoc side answers with.
import { type ErrorType, stanzaError } from '../xmpp/errors.js';
import { type Element, xml } from '../xmpp/stanzas.js';

export const NS_COMMANDS = 'http://jabber.org/protocol/commands';
export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';

export type NoteType = 'info' | 'warn' | 'error';
export interface Note {
  type: NoteType;
  text: string;
}

export interface CommandReply {
  node: string;
  sessionid: string;
  status: 'executing' | 'completed' | 'canceled';
  notes?: readonly Note[];
  form?: Element;
  /** An executing stage that can go on: "next" (the default action) besides "complete". */
  canGoOn?: boolean;
}

export function commandReply(r: CommandReply): Element {
  return xml('command', { xmlns: NS_COMMANDS, node: r.node, sessionid: r.sessionid, status: r.status },
    // A form has one stage left (completing it is the only way on), or a list has another page.
    ...(r.status === 'executing'
      ? [r.canGoOn ? xml('actions', { execute: 'next' }, xml('next', {}), xml('complete', {})) : xml('actions', { execute: 'complete' }, xml('complete', {}))]
      : []),
    ...(r.notes ?? []).map((n) => xml('note', { type: n.type }, n.text)),
    ...(r.form ? [r.form] : []));
}

/** A stanza error with one of XEP-0050's specific conditions (bad-sessionid, bad-action, ...). */
export function commandError(type: ErrorType, condition: string, specific: string, text?: string): Element {
  return stanzaError(type, condition, text, xml(specific, { xmlns: NS_COMMANDS }));
}

export interface Identity {
  category: string;
  type: string;
  name?: string;
}

export function discoInfo(node: string | undefined, identities: readonly Identity[], features: readonly string[]): Element {
  return xml('query', { xmlns: NS_DISCO_INFO, node },
    ...identities.map((i) => xml('identity', { category: i.category, type: i.type, name: i.name })),
    ...[...new Set(features)].map((f) => xml('feature', { var: f })));
}

export interface DiscoItem {
  jid: string;
  node?: string;
  name?: string;
}

export function discoItems(node: string | undefined, items: readonly DiscoItem[]): Element {
  return xml('query', { xmlns: NS_DISCO_ITEMS, node },
    ...items.map((i) => xml('item', { jid: i.jid, node: i.node, name: i.name })));
}

// XMPP_DEBUG: print every stanza in and out, with secrets removed. @xmpp/debug's
// hideSensitive covers SASL and the component handshake; we also hide invite
// tokens, passwords (XEP-0077, XEP-0004 fields) and tokens inside text.
import { hideSensitive } from '@xmpp/debug';
import { redactText } from '../log.js';
import { xml, type Element } from './stanzas.js';

const SECRET_ELEMENTS = new Set(['password', 'handshake']);
const SECRET_ATTRS = ['token', 'password'];
const SECRET_FIELD = /pass|token|secret/i;

/** A copy of `el` with every secret replaced by "[hidden]". */
function redacted(el: Element, secret = false): Element {
  const attrs: Record<string, unknown> = {};
  // Any attribute may quote a token (an XHTML-IM link, a landing-page URL).
  for (const [k, v] of Object.entries(el.attrs)) attrs[k] = SECRET_ATTRS.includes(k) ? '[hidden]' : typeof v === 'string' ? redactText(v) : v;
  const hide = secret || SECRET_ELEMENTS.has(el.name) || (el.name === 'field' && SECRET_FIELD.test(String(attrs.var ?? '')));
  const children = el.children.map((c) => (typeof c === 'string' ? (hide ? '[hidden]' : redactText(c)) : redacted(c as Element, hide)));
  return xml(el.name, attrs, ...children);
}

export function redactStanza(el: Element): string {
  return hideSensitive(redacted(el)).toString();
}

interface Emitter {
  on(event: 'element' | 'send', fn: (el: Element) => void): unknown;
}

export function attachDebug(entity: Emitter, label: string, print: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): void {
  entity.on('element', (el) => print(`${label} IN  ${redactStanza(el)}`));
  entity.on('send', (el) => print(`${label} OUT ${redactStanza(el)}`));
}

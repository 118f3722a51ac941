// Reading and writing XEP-0050 / XEP-0004 elements in tests, with plain @xmpp/xml.
import { expect } from 'chai';
import xml, { type Element } from '@xmpp/xml';

export const NS_COMMANDS = 'http://jabber.org/protocol/commands';
export const NS_DATA = 'jabber:x:data';
export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

export interface FieldSeen {
  type?: string;
  values: string[];
  required: boolean;
  options: string[];
}

/** A <command/> request; `values` become a submitted form. */
export function command(node: string, attrs: Record<string, string> = {}, values?: Record<string, string | string[]>): Element {
  return xml('command', { xmlns: NS_COMMANDS, node, ...attrs },
    ...(values ? [xml('x', { xmlns: NS_DATA, type: 'submit' },
      ...Object.entries(values).map(([v, val]) => xml('field', { var: v }, ...[val].flat().map((s) => xml('value', {}, s)))))] : []));
}

/** Send a <command/> to `to` as `user`: the <command/> of the reply, or the <error/> when refused. */
export async function runCommand(user: { xmpp: { iqCaller: { request(el: Element, timeout?: number): Promise<Element> } } }, to: string, el: Element): Promise<Element> {
  try {
    const res = await user.xmpp.iqCaller.request(xml('iq', { type: 'set', to }, el), 10_000);
    return res.getChild('command', NS_COMMANDS)!;
  } catch (e) {
    // xmpp.js rejects with a StanzaError whose element is the <error/>.
    const error = (e as { element?: Element }).element;
    if (error?.name === 'error') return error;
    throw e;
  }
}

export function formOf(cmd: Element): Element | undefined {
  return cmd.getChild('x', NS_DATA);
}

/** The fields of a form by var: type, values, required, option values. */
export function fieldsOf(x: Element | undefined): Record<string, FieldSeen> {
  const out: Record<string, FieldSeen> = {};
  for (const f of x?.getChildren('field') ?? []) {
    out[f.attrs.var] = {
      type: f.attrs.type,
      values: f.getChildren('value').map((v) => v.text()),
      required: Boolean(f.getChild('required')),
      options: f.getChildren('option').map((o) => o.getChildText('value') ?? ''),
    };
  }
  return out;
}

/** Rows of a reported/item table, as var → first value. */
export function rowsOf(x: Element | undefined): Record<string, string>[] {
  return (x?.getChildren('item') ?? []).map((item) =>
    Object.fromEntries(item.getChildren('field').map((f) => [f.attrs.var, f.getChildText('value') ?? ''])));
}

export function notesOf(cmd: Element): { type: string; text: string }[] {
  return cmd.getChildren('note').map((n) => ({ type: n.attrs.type, text: n.text() }));
}

/** type, condition, text and application condition of an <error/>. */
export function errorOf(el: Element): { type: string; condition?: string; text?: string; app?: string } {
  const children = el.getChildElements();
  return {
    type: el.attrs.type,
    condition: children.find((c) => c.attrs.xmlns === NS_STANZAS && c.name !== 'text')?.name,
    text: el.getChildText('text', NS_STANZAS) ?? undefined,
    app: children.find((c) => c.attrs.xmlns === NS_COMMANDS)?.name,
  };
}

export function tokenOf(uri: string): string {
  return /preauth=([A-Za-z0-9_-]+)/.exec(uri)![1]!;
}

/**
 * The invitation result of a completed create command (XEP-0401 v0.6 and Prosody's
 * fields): checks its shape, returns its fields and the URI.
 */
export function invitationOf(cmd: Element): { fields: Record<string, FieldSeen>; uri: string } {
  expect(cmd.attrs.status, cmd.toString()).to.equal('completed');
  const x = formOf(cmd)!;
  expect(x.attrs.type).to.equal('result');
  const f = fieldsOf(x);
  expect(f.FORM_TYPE).to.deep.include({ type: 'hidden', values: ['urn:xmpp:invite#invitation'] });
  expect(f.uri!.type).to.equal('text-single');
  expect(f.expire!.type).to.equal('text-single');
  expect(f.expire!.values[0]).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  return { fields: f, uri: f.uri!.values[0]! };
}

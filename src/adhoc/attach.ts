// Registers the ad-hoc commands and their disco on any xmpp.js iqCallee (the
// bot's client, the component), answering only at one address.
import { jid as parseJid } from '@xmpp/jid';
import { type Lang, langOf } from '../i18n/i18n.js';
import type { Element } from '../xmpp/stanzas.js';
import type { Adhoc } from './adhoc.js';
import { infoFor, itemsFor } from './disco.js';
import { type Identity, NS_COMMANDS, NS_DISCO_INFO, NS_DISCO_ITEMS } from './stanzas.js';

/** The part of an xmpp.js context used here. */
export interface IqContext {
  stanza: Element;
}
export type IqHandler = (ctx: IqContext, next: () => Promise<unknown>) => unknown;
/** What xmpp.js's iqCallee offers (client 0.14, component 0.13 alike). */
export interface IqRouter {
  get(ns: string, name: string, handler: IqHandler): void;
  set(ns: string, name: string, handler: IqHandler): void;
}

export interface AttachOptions {
  /** The JID that answers: the bot's full JID, the component's domain. A function when it is known only once online. */
  address: string | (() => string | undefined);
  /** The disco identity of that address, e.g. client/bot. */
  identity: Identity;
  /** More disco#info features of the address (the first handler registered for disco#info answers it alone). */
  features?: readonly string[];
}

function sameJid(a: string, b: string): boolean {
  try {
    return parseJid(a).equals(parseJid(b));
  } catch {
    return false;
  }
}

/** Bare JID of the sender, lower case. */
function askerOf(stanza: Element): string {
  return String(stanza.attrs.from ?? '').split('/')[0]!.toLowerCase();
}

/**
 * The language a request asks to be answered in: the xml:lang of its payload (which
 * inherits the IQ's), else of the IQ; undefined when it names none of ours.
 */
export function requestLang(stanza: Element, payload?: Element): Lang | undefined {
  const tag = payload?.attrs['xml:lang'] ?? stanza.attrs['xml:lang'];
  return typeof tag === 'string' ? langOf(tag) : undefined;
}

export function attachAdhoc(iqCallee: IqRouter, adhoc: Adhoc, opts: AttachOptions): void {
  const address = () => (typeof opts.address === 'function' ? opts.address() : opts.address);
  // Stanzas to other JIDs (a component receives its whole domain) go on to later handlers, or get service-unavailable.
  const here = (stanza: Element): string | undefined => {
    const to = String(stanza.attrs.to ?? '');
    const me = address();
    return me && to && sameJid(to, me) ? to : undefined;
  };
  const nodeOf = (stanza: Element, ns: string): string | undefined => {
    const node = stanza.getChild('query', ns)?.attrs.node;
    return typeof node === 'string' ? node : undefined;
  };

  // Whether the asker is a server admin decides what is listed: ask first (cached by the core).
  const refreshed = (stanza: Element) => adhoc.service.refreshAdmin(askerOf(stanza));
  iqCallee.get(NS_DISCO_INFO, 'query', async ({ stanza }, next) => {
    if (!here(stanza)) return next();
    await refreshed(stanza);
    return infoFor(adhoc, askerOf(stanza), nodeOf(stanza, NS_DISCO_INFO), opts.identity, opts.features, requestLang(stanza, stanza.getChild('query', NS_DISCO_INFO)));
  });
  iqCallee.get(NS_DISCO_ITEMS, 'query', async ({ stanza }, next) => {
    const to = here(stanza);
    if (!to) return next();
    await refreshed(stanza);
    return itemsFor(adhoc, askerOf(stanza), nodeOf(stanza, NS_DISCO_ITEMS), to, requestLang(stanza, stanza.getChild('query', NS_DISCO_ITEMS)));
  });
  iqCallee.set(NS_COMMANDS, 'command', ({ stanza }, next) => {
    if (!here(stanza)) return next();
    const command = stanza.getChild('command', NS_COMMANDS)!;
    return adhoc.execute(askerOf(stanza), command, requestLang(stanza, command));
  });
}

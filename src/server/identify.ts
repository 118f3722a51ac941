// Which server software runs, asked over the bot's connection: XEP-0092
// (jabber:iq:version), else the name of its disco#info identity. The disco
// features come along: an adapter reads what the server offers from them.
import type { Client } from '@xmpp/client';
import type { Software } from './server.js';
import { type Element, xml } from '../xmpp/stanzas.js';

type IqCaller = Pick<Client['iqCaller'], 'request'>;

export interface ServerFacts {
  software?: Software;
  /** The server's disco#info features ([] when it did not answer). */
  features: string[];
}

/** 'Prosody' → 'prosody'; an identity name such as 'ejabberd' or 'Prosody' read the same way. */
export function softwareName(name: string): string {
  const n = name.trim().toLowerCase();
  if (n.includes('ejabberd')) return 'ejabberd';
  if (n.includes('prosody')) return 'prosody';
  return n;
}

export async function identify(iq: IqCaller, domain: string, timeoutMs = 5_000): Promise<ServerFacts> {
  const [version, info] = await Promise.all([
    iq.request(xml('iq', { type: 'get', to: domain }, xml('query', { xmlns: 'jabber:iq:version' })), timeoutMs).catch(() => undefined),
    iq.request(xml('iq', { type: 'get', to: domain }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })), timeoutMs).catch(() => undefined),
  ]);
  const query = info?.getChild('query', 'http://jabber.org/protocol/disco#info');
  const features = (query?.getChildren('feature') ?? []).map((f: Element) => String(f.attrs.var ?? '')).filter(Boolean);
  const v = version?.getChild('query', 'jabber:iq:version');
  const name = v?.getChildText('name')?.trim();
  if (name) {
    const ver = v?.getChildText('version')?.trim();
    return { software: { name: softwareName(name), ...(ver ? { version: ver } : {}), source: 'xep0092' }, features };
  }
  const identity = query?.getChildren('identity').find((i: Element) => i.attrs.category === 'server' && i.attrs.name);
  return identity ? { software: { name: softwareName(String(identity.attrs.name)), source: 'disco' }, features } : { features };
}

/** "ejabberd 23.01", "Prosody 13.0.1", "an unknown server". */
export function describeSoftware(s: Software | undefined): string {
  if (!s) return 'an unknown server';
  const name = s.name === 'prosody' ? 'Prosody' : s.name;
  return s.version ? `${name} ${s.version}` : name;
}

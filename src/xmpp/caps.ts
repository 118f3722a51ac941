// XEP-0115 entity capabilities: the `ver` of a disco#info answer, so a contact's
// client learns what the bot offers from its presence. Conversations and its forks
// ask a contact's disco#info only when its presence carries caps
// (iNPUTmice/Conversations PresenceParser: `if (presence.hasCaps()) fetchCaps(...)`),
// and find ad-hoc commands that way.
import { createHash } from 'node:crypto';
import type { Identity } from '../adhoc/stanzas.js';
import { type Element, xml } from './stanzas.js';

export const NS_CAPS = 'http://jabber.org/protocol/caps';
/** Our software's caps node: disco#info to `${CAPS_NODE}#${ver}` is answered as at no node. */
export const CAPS_NODE = 'urn:xmpp-invites:bot';

/** XEP-0115 §5.1, without extended forms: identities `category/type/lang/name<`, then features `var<`, sorted; SHA-1, base64. */
export function capsVer(identities: readonly (Identity & { lang?: string })[], features: readonly string[]): string {
  const ids = identities.map((i) => `${i.category}/${i.type}/${i.lang ?? ''}/${i.name ?? ''}`).sort();
  const vars = [...new Set(features)].sort();
  return createHash('sha1').update([...ids, ...vars].map((s) => `${s}<`).join(''), 'utf8').digest('base64');
}

export function capsElement(ver: string): Element {
  return xml('c', { xmlns: NS_CAPS, hash: 'sha-1', node: CAPS_NODE, ver });
}

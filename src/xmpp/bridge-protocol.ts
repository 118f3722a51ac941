// Elements of the bridge ↔ component protocol (docs/bridge-protocol.md).
import { type ErrorType, stanzaError } from './errors.js';
import { type Element, xml } from './stanzas.js';

export const NS_BRIDGE = 'urn:xmpp-invites:bridge:0';

/** An element of the bridge protocol; undefined attributes are left out. */
export function bridgeElement(name: string, attrs: Record<string, string | undefined> = {}): Element {
  const defined = Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return xml(name, { xmlns: NS_BRIDGE, ...defined });
}

/** The component's own refusal, marked so the bridge passes its text on to the client. */
export function bridgeRefusal(type: ErrorType, condition: string, text: string): Element {
  return stanzaError(type, condition, text, bridgeElement('refused'));
}

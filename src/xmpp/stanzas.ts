// Every stanza this project builds, in one place, with @xmpp/xml.
import xml, { type Element } from '@xmpp/xml';

export { xml, type Element };

export function presence(): Element {
  return xml('presence', {});
}

/** A one-to-one text message. `type` mirrors the message answered (chat or normal). */
export function textMessage(to: string, body: string, type: 'chat' | 'normal' = 'chat'): Element {
  return xml('message', { to, type }, xml('body', {}, body));
}

export function iq(type: 'get' | 'set', to: string, child: Element): Element {
  return xml('iq', { type, to }, child);
}

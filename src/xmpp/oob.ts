// XEP-0066 out-of-band data: a message whose body is a URL and whose <x/> names
// the same URL, which clients (Conversations, Gajim, Dino, ...) show inline.
import { type Element, xml } from './stanzas.js';

export const NS_OOB = 'jabber:x:oob';

export function oobMessage(to: string, url: string, type: 'chat' | 'normal' = 'chat'): Element {
  return xml('message', { to, type }, xml('body', {}, url), xml('x', { xmlns: NS_OOB }, xml('url', {}, url)));
}

// Every stanza this project builds, in one place, with @xmpp/xml.
import xml, { type Element } from '@xmpp/xml';

export { xml, type Element };

export const NS_NICK = 'http://jabber.org/protocol/nick';
export const NS_VCARD_TEMP = 'vcard-temp';
export const NS_ROSTER = 'jabber:iq:roster';
const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
export const NS_CONFERENCE = 'jabber:x:conference';

/** Available presence, with the sender's XEP-0115 caps element when it has one. */
export function presence(caps?: Element): Element {
  return xml('presence', {}, ...(caps ? [caps] : []));
}

export type SubscriptionType = 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';

/** A subscription presence (RFC 6121 §3); a `subscribe` may carry the sender's nickname (XEP-0172 §4.2). */
export function subscription(to: string, type: SubscriptionType, nick?: string): Element {
  return xml('presence', { to, type }, ...(nick ? [xml('nick', { xmlns: NS_NICK }, nick)] : []));
}

/** A one-to-one text message. `type` mirrors the message answered (chat or normal); `lang` is the body's language. */
export function textMessage(to: string, body: string, type: 'chat' | 'normal' = 'chat', lang?: string): Element {
  return xml('message', { to, type, ...(lang ? { 'xml:lang': lang } : {}) }, xml('body', {}, body));
}

/**
 * A XEP-0249 direct invitation to a chat room (bare JID): a message with no body, only the
 * `<x xmlns='jabber:x:conference'/>`; `reason` is its sentence, `lang` the reason's language.
 */
export function directInvitation(to: string, room: string, reason?: string, lang?: string): Element {
  return xml('message', { to, ...(lang ? { 'xml:lang': lang } : {}) },
    xml('x', { xmlns: NS_CONFERENCE, jid: room, ...(reason ? { reason } : {}) }));
}

export function iq(type: 'get' | 'set', to: string, child: Element): Element {
  return xml('iq', { type, to }, child);
}

/** Our nickname (XEP-0172 §4.5) as a PEP item, readable by anyone (`pubsub#access_model` open, XEP-0223 publish-options). */
export function nickPublish(nick: string): Element {
  return xml('pubsub', { xmlns: NS_PUBSUB },
    xml('publish', { node: NS_NICK }, xml('item', { id: 'current' }, xml('nick', { xmlns: NS_NICK }, nick))),
    xml('publish-options', {},
      xml('x', { xmlns: 'jabber:x:data', type: 'submit' },
        xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, `${NS_PUBSUB}#publish-options`)),
        xml('field', { var: 'pubsub#access_model' }, xml('value', {}, 'open')))));
}

export interface VCardFields {
  fn: string;
  nickname: string;
  desc: string;
  url?: string;
}

/** A vcard-temp vCard (XEP-0054): the element of an IQ set to our own account. */
export function vcardTemp(v: VCardFields): Element {
  return xml('vCard', { xmlns: NS_VCARD_TEMP },
    xml('FN', {}, v.fn),
    xml('NICKNAME', {}, v.nickname),
    xml('DESC', {}, v.desc),
    ...(v.url ? [xml('URL', {}, v.url)] : []));
}

// RFC 6120 stanza errors: what an iqCallee handler returns to make the IQ an error.
import { type Element, xml } from './stanzas.js';

export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

export type ErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

/** `<error/>` with its condition, then the sentence people see, then an application-specific condition (RFC 6120 §8.3.2 order). */
export function stanzaError(type: ErrorType, condition: string, text?: string, app?: Element): Element {
  return xml('error', { type },
    xml(condition, { xmlns: NS_STANZAS }),
    ...(text ? [xml('text', { xmlns: NS_STANZAS, 'xml:lang': 'en' }, text)] : []),
    ...(app ? [app] : []));
}

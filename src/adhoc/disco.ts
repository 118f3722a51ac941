// XEP-0030 answers about the invite commands, per asker (XEP-0050 §2).
import { type Lang, translator } from '../i18n/i18n.js';
import { localize } from '../invites/policy.js';
import { CAPS_NODE } from '../xmpp/caps.js';
import { stanzaError } from '../xmpp/errors.js';
import { NS_DATA } from '../xmpp/forms.js';
import type { Element } from '../xmpp/stanzas.js';
import { type Adhoc, inLanguage } from './adhoc.js';
import { discoInfo, discoItems, type Identity, NS_COMMANDS, NS_DISCO_INFO, NS_DISCO_ITEMS } from './stanzas.js';

const notFound = (lang: Lang) => inLanguage(stanzaError('cancel', 'item-not-found', translator(lang)('adhoc.error.noNode')), lang);

/** The features of the address itself (its caps are the hash of these and its identity). */
export function addressFeatures(features: readonly string[] = []): string[] {
  return [...new Set([NS_DISCO_INFO, NS_DISCO_ITEMS, NS_COMMANDS, NS_DATA, ...features])];
}

/**
 * disco#info at the address (no node, or the caps node `CAPS_NODE#ver` its presence
 * names, XEP-0115 §6.2), on the command list node, or on one command's node; names in `lang`.
 */
export async function infoFor(adhoc: Adhoc, asker: string, node: string | undefined, identity: Identity, features: readonly string[] = [], lang: Lang = adhoc.language): Promise<Element> {
  if (node === undefined || node.startsWith(`${CAPS_NODE}#`)) {
    return discoInfo(node, [identity], addressFeatures(features));
  }
  if (node === NS_COMMANDS) {
    return discoInfo(node, [{ category: 'automation', type: 'command-list', name: translator(lang)('adhoc.commandList') }], [NS_DISCO_INFO]);
  }
  const command = adhoc.find(node);
  if (!command) return notFound(lang);
  const refused = await adhoc.refusal(asker, command);
  if (refused) return inLanguage(stanzaError('auth', 'forbidden', localize(refused, translator(lang))), lang);
  return discoInfo(node, [{ category: 'automation', type: 'command-node', name: adhoc.nameOf(command, lang) }], [NS_COMMANDS, NS_DATA]);
}

/** disco#items: on the command list node, the commands this asker may run, each at `jid`. */
export async function itemsFor(adhoc: Adhoc, asker: string, node: string | undefined, jid: string, lang: Lang = adhoc.language): Promise<Element> {
  if (node === NS_COMMANDS) {
    return discoItems(node, (await adhoc.available(asker)).map((c) => ({ jid, node: c.node, name: adhoc.nameOf(c, lang) })));
  }
  if (node === undefined || adhoc.find(node)) return discoItems(node, []);
  return notFound(lang);
}

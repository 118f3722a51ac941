// XEP-0030 answers about the invite commands, per asker (XEP-0050 §2).
import { stanzaError } from '../xmpp/errors.js';
import { NS_DATA } from '../xmpp/forms.js';
import type { Element } from '../xmpp/stanzas.js';
import type { Adhoc } from './adhoc.js';
import { discoInfo, discoItems, type Identity, NS_COMMANDS, NS_DISCO_INFO, NS_DISCO_ITEMS } from './stanzas.js';

const notFound = () => stanzaError('cancel', 'item-not-found', 'There is no such node here.');

/** disco#info at the address (no node), on the command list node, or on one command's node. */
export async function infoFor(adhoc: Adhoc, asker: string, node: string | undefined, identity: Identity, features: readonly string[] = []): Promise<Element> {
  if (node === undefined) {
    return discoInfo(undefined, [identity], [NS_DISCO_INFO, NS_DISCO_ITEMS, NS_COMMANDS, NS_DATA, ...features]);
  }
  if (node === NS_COMMANDS) {
    return discoInfo(node, [{ category: 'automation', type: 'command-list', name: 'Ad-hoc commands' }], [NS_DISCO_INFO]);
  }
  const command = adhoc.find(node);
  if (!command) return notFound();
  const refused = await adhoc.refusal(asker, command);
  if (refused) return stanzaError('auth', 'forbidden', refused.message);
  return discoInfo(node, [{ category: 'automation', type: 'command-node', name: command.name }], [NS_COMMANDS, NS_DATA]);
}

/** disco#items: on the command list node, the commands this asker may run, each at `jid`. */
export async function itemsFor(adhoc: Adhoc, asker: string, node: string | undefined, jid: string): Promise<Element> {
  if (node === NS_COMMANDS) {
    return discoItems(node, (await adhoc.available(asker)).map((c) => ({ jid, node: c.node, name: c.name })));
  }
  if (node === undefined || adhoc.find(node)) return discoItems(node, []);
  return notFound();
}

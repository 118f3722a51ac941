// The bot's profile: a nickname (XEP-0172) and a vCard naming the service, published
// once per connection. What clients read, from their sources (read with the search
// tool):
// - Conversations (and its forks Cheogram, Snikket): the nick node as a PEP item
//   (snikket-im/snikket-android src/main/java/eu/siacs/conversations/xmpp/manager/NickManager.java:
//   handleItems reads the `nick` item, publishNick publishes one) and the nick in a
//   subscription request; avatars by vcard-temp:x:update / PEP
//   (.../xmpp/manager/AvatarManager.java, handleVCardUpdate).
// - Dino: the nick node over PEP (dino/dino xmpp-vala/src/module/xep/0172_user_nickname.vala:
//   request_nick and the +notify filter on http://jabber.org/protocol/nick), and a
//   vcard-temp get to the bare JID for avatars (xmpp-vala/src/module/xep/0054_vcard/module.vala).
// - Gajim: the nick in subscription requests and messages (gajim/python-nbxmpp
//   nbxmpp/modules/nickname.py, "MUST NOT be included in presence broadcasts", so
//   only in our `subscribe`), the PEP node through its pubsub module, vcard-temp
//   (nbxmpp/modules/vcard_temp.py) for the profile window.
// So: the nick over PEP, and a vcard-temp vCard. On Prosody 0.12 and 13 the generated
// config loads mod_pep and mod_vcard_legacy (both builds ship them), which keeps a
// vcard-temp set as a XEP-0292 vCard4 PEP item (`urn:xmpp:vcard4`, access open) and
// answers vcard-temp gets to the bare JID from it: one publish serves both kinds of
// client. The nick node is published with access_model open (XEP-0223 publish-options)
// so the name shows before the subscription is approved.
import type { Client } from '@xmpp/client';
import { log } from '../log.js';
import { nickPublish, vcardTemp, type VCardFields } from '../xmpp/stanzas.js';

export interface ProfileOptions {
  /** BOT_NAME: the nickname and the vCard's FN. */
  name: string;
  domain: string;
  /** PUBLIC_URL: the vCard's URL. */
  publicUrl?: string;
}

export function profileCard(p: ProfileOptions): VCardFields {
  return {
    fn: p.name,
    nickname: p.name,
    desc: `Invites for ${p.domain}: send "help" for the commands, or run its ad-hoc commands.`,
    url: p.publicUrl,
  };
}

/** Publish the nick and the vCard; failures are logged, never thrown. */
export async function publishProfile(iqCaller: Client['iqCaller'], p: ProfileOptions): Promise<void> {
  const steps: [string, () => Promise<unknown>][] = [
    ['nickname (XEP-0172)', () => iqCaller.set(nickPublish(p.name))],
    ['vCard (vcard-temp)', () => iqCaller.set(vcardTemp(profileCard(p)))],
  ];
  await Promise.all(steps.map(async ([what, step]) => {
    try {
      await step();
    } catch (e) {
      log.warn(`bot: could not publish its ${what}: ${(e as Error).message}`);
    }
  }));
}

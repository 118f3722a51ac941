// What joining a group does on a real server, through the bridge and the component:
// mutual contacts under the group's roster group (befriend with `group`), the room in
// the new member's XEP-0402 bookmarks (bookmark), and the bot's XEP-0249 invitation.
import { expect } from 'chai';
import xml, { type Element } from '@xmpp/xml';
import { groupJoined } from '../../src/groups/joined.js';
import type { Group, JoinedEvent } from '../../src/groups/types.js';
import { NS_BRIDGE } from '../../src/xmpp/bridge-protocol.js';
import { eventually } from '../helpers/eventually.js';
import { DOMAIN, serverName, type Stack, startStack } from '../helpers/stack.js';
import { rosterItems, type User } from '../helpers/xmpp-user.js';

const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
const NS_BOOKMARKS = 'urn:xmpp:bookmarks:1';
const GROUP = 'Book club ☕';
const ROOM = `bookclub@conference.${DOMAIN}`;

interface Seen { subscription: string; ask?: string; name?: string; groups: string[] }

async function roster(u: User): Promise<Map<string, Seen>> {
  return new Map((await rosterItems(u)).map((i) => [String(i.attrs.jid), {
    subscription: String(i.attrs.subscription),
    ask: i.attrs.ask as string | undefined,
    name: i.attrs.name as string | undefined,
    groups: (i.getChildren('group') as Element[]).map((g) => g.text()).sort(),
  }]));
}

/** The user's own XEP-0402 bookmarks, as its client reads them from its PEP. */
async function bookmarks(u: User): Promise<Element[]> {
  const res = await u.xmpp.iqCaller.request(xml('iq', { type: 'get', to: u.jid }, xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node: NS_BOOKMARKS }))))
    .catch((e: { condition?: string }) => { if (e.condition === 'item-not-found') return undefined; throw e; }); // no node: none
  if (!res) return [];
  return (res.getChild('pubsub', NS_PUBSUB)?.getChild('items')?.getChildren('item') ?? []) as Element[];
}

/** The node's configuration, as its owner reads it (XEP-0060 §8.2). */
async function nodeConfig(u: User): Promise<Map<string, string>> {
  const res = await u.xmpp.iqCaller.request(xml('iq', { type: 'get', to: u.jid },
    xml('pubsub', { xmlns: `${NS_PUBSUB}#owner` }, xml('configure', { node: NS_BOOKMARKS }))));
  const form = res.getChild('pubsub', `${NS_PUBSUB}#owner`)?.getChild('configure')?.getChild('x', 'jabber:x:data');
  return new Map(((form?.getChildren('field') ?? []) as Element[]).map((f) => [String(f.attrs.var), f.getChildText('value') ?? '']));
}

async function refusal(p: Promise<unknown>): Promise<{ condition?: string; text?: string }> {
  try {
    await p;
  } catch (e) {
    return { condition: (e as { condition?: string }).condition, text: (e as { text?: string }).text };
  }
  throw new Error('expected a refusal');
}

/** The next roster push `u` gets for `contact`. */
function nextPush(u: User, contact: string): Promise<Element> {
  return new Promise((resolve) => {
    const on = (el: Element) => {
      const item = el.is('iq') && el.attrs.type === 'set' ? el.getChild('query', 'jabber:iq:roster')?.getChild('item') : undefined;
      if (item && item.attrs.jid === contact && item.getChildren('group').some((g) => (g as Element).text() === GROUP)) {
        u.xmpp.off('stanza', on);
        resolve(item);
      }
    };
    u.xmpp.on('stanza', on);
  });
}

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))]);

describe(`joining a group on the server (real ${serverName()}, bridge + component)`, function () {
  this.timeout(30_000);
  let stack: Stack;
  let ann: User;
  let ben: User;
  let cat: User;
  const jids = { ann: `ann@${DOMAIN}`, ben: `ben@${DOMAIN}`, cat: `cat@${DOMAIN}` };
  const group = (): Group => ({ name: GROUP, room: ROOM, members: [jids.ann, jids.ben, jids.cat], createdAt: new Date().toISOString(), createdBy: `boss@${DOMAIN}` });

  before(async () => {
    stack = await startStack();
    [ann, ben, cat] = await Promise.all([stack.user(jids.ann), stack.user(jids.ben), stack.user(jids.cat)]);
  });
  after(async () => { await stack?.stop(); });

  it('befriend with a group: every member has the others, subscription both, in the group; pushes reach an online client; a group an item had stays', async () => {
    // ann already has cat, named and in a group of her own: both stay.
    await ann.xmpp.iqCaller.request(xml('iq', { type: 'set' }, xml('query', { xmlns: 'jabber:iq:roster' },
      xml('item', { jid: jids.cat, name: 'Cathy' }, xml('group', {}, 'Friends')))));
    await rosterItems(ann); // a session that asked for its roster is sent pushes (Prosody's "interested" resources)
    const c = stack.app.component!;
    await c.befriend(DOMAIN, jids.ben, jids.ann, GROUP);
    const pushed = nextPush(ann, jids.cat);
    await c.befriend(DOMAIN, jids.cat, jids.ann, GROUP);
    await c.befriend(DOMAIN, jids.cat, jids.ben, GROUP);
    const push = await within(pushed, 5_000, 'roster push to ann');
    expect(push.attrs.subscription).to.equal('both');

    for (const [u, others] of [[ann, [jids.ben, jids.cat]], [ben, [jids.ann, jids.cat]], [cat, [jids.ann, jids.ben]]] as const) {
      const r = await eventually(() => roster(u), (m) => others.every((o) => m.get(o)?.subscription === 'both' && m.get(o)!.groups.includes(GROUP)));
      for (const o of others) {
        expect(r.get(o)?.subscription, `${u.jid} → ${o}`).to.equal('both');
        expect(r.get(o)?.ask, `${u.jid} → ${o}`).to.equal(undefined);
        expect(r.get(o)?.groups, `${u.jid} → ${o}`).to.include(GROUP);
      }
    }
    const annCat = (await roster(ann)).get(jids.cat)!;
    expect(annCat.groups).to.deep.equal(['Book club ☕', 'Friends'].sort());
    expect(annCat.name).to.equal('Cathy');
    // Again: nothing changes, no group twice.
    await c.befriend(DOMAIN, jids.cat, jids.ann, GROUP);
    expect((await roster(ann)).get(jids.cat)!.groups).to.deep.equal(['Book club ☕', 'Friends'].sort());
  });

  it('bookmark: the user\'s own client finds the conference item (autojoin, the group\'s name) in its XEP-0402 node, configured as the XEP says', async () => {
    const c = stack.app.component!;
    expect(await c.bookmark(DOMAIN, jids.ben, ROOM, GROUP)).to.deep.equal({ existed: false });
    const items = await bookmarks(ben);
    const item = items.find((i) => i.attrs.id === ROOM);
    expect(item, 'the room\'s item').to.exist;
    const conference = item!.getChild('conference', NS_BOOKMARKS)!;
    expect(conference.attrs.autojoin).to.be.oneOf(['true', '1']);
    expect(conference.attrs.name).to.equal(GROUP);
    const config = await nodeConfig(ben);
    expect(config.get('pubsub#access_model')).to.equal('whitelist');
    expect(config.get('pubsub#persist_items')).to.be.oneOf(['1', 'true']);
    expect(config.get('pubsub#send_last_published_item')).to.equal('never');
    // A second room goes beside the first (max_items=max), and one already there is left as it is.
    expect(await c.bookmark(DOMAIN, jids.ben, `other@conference.${DOMAIN}`, 'Other')).to.deep.equal({ existed: false });
    expect(await c.bookmark(DOMAIN, jids.ben, ROOM, 'Renamed')).to.deep.equal({ existed: true });
    const after = await bookmarks(ben);
    expect(after.map((i) => String(i.attrs.id)).sort()).to.deep.equal([`other@conference.${DOMAIN}`, ROOM].sort());
    expect(after.find((i) => i.attrs.id === ROOM)!.getChild('conference', NS_BOOKMARKS)!.attrs.name).to.equal(GROUP);
  });

  it('refuses a bookmark or a befriend it cannot do, with the documented errors; only from the component', async () => {
    const c = stack.app.component!;
    expect((await refusal(c.bookmark(DOMAIN, `nobody@${DOMAIN}`, ROOM, GROUP))).condition).to.equal('item-not-found');
    expect((await refusal(c.bookmark(DOMAIN, jids.ben, `conference.${DOMAIN}`, GROUP))).condition).to.equal('bad-request');
    expect((await refusal(c.bookmark(DOMAIN, `ben@elsewhere.example`, ROOM, GROUP))).condition).to.equal('bad-request');
    expect((await refusal(c.befriend(DOMAIN, jids.ann, jids.ben, '  '))).condition).to.equal('bad-request');
    const r = await refusal(ann.xmpp.iqCaller.request(xml('iq', { type: 'set', to: DOMAIN },
      xml('bookmark', { xmlns: NS_BRIDGE, jid: jids.ann, room: `evil@conference.${DOMAIN}` }))));
    expect(r.condition).to.equal('forbidden');
    expect((await bookmarks(ann)).map((i) => i.attrs.id)).to.not.include(`evil@conference.${DOMAIN}`);
  });

  it('does not publish into a bookmarks node configured otherwise (e.g. one item, readable by contacts): conflict, the node untouched', async () => {
    const fay = await stack.user(`fay@${DOMAIN}`);
    // A client that published without publish-options: the node has the server's defaults.
    await fay.xmpp.iqCaller.request(xml('iq', { type: 'set', to: fay.jid }, xml('pubsub', { xmlns: NS_PUBSUB },
      xml('publish', { node: NS_BOOKMARKS }, xml('item', { id: `mine@conference.${DOMAIN}` }, xml('conference', { xmlns: NS_BOOKMARKS, autojoin: 'false' }))))));
    const r = await refusal(stack.app.component!.bookmark(DOMAIN, fay.jid, ROOM, GROUP));
    expect(r.condition).to.equal('conflict');
    expect((await bookmarks(fay)).map((i) => String(i.attrs.id))).to.deep.equal([`mine@conference.${DOMAIN}`]);
    // Through the seam: a failure, said so.
    expect((await stack.app.server!.addBookmark(fay.jid, ROOM, GROUP)).outcome).to.equal('failed');
  });

  it('groupJoined through the chosen adapter: contacts in the group, the bookmark, and the bot\'s direct invitation reaches the online member', async () => {
    const dan = await stack.user(`dan@${DOMAIN}`);
    const server = stack.app.server!;
    const e: JoinedEvent = { group: { ...group(), members: [...group().members, dan.jid] }, jid: dan.jid, others: [jids.ann, jids.ben, jids.cat], via: 'added' };
    const out = await groupJoined(e, {
      server,
      bot: stack.app.bot,
      invitation: () => ({ reason: `You are now in ${GROUP}`, lang: 'en' }),
    });
    expect(out).to.deep.equal({ contacts: 3, failed: 0, bookmarked: true, invited: true });
    expect(server.bookmarks).to.equal(true);
    const invitation = await dan.next(stack.env.BOT_JID!);
    const x = invitation?.getChild('x', 'jabber:x:conference');
    expect(x?.attrs.jid, 'the room').to.equal(ROOM);
    expect(x?.attrs.reason).to.equal(`You are now in ${GROUP}`);
    const r = await roster(dan);
    for (const o of [jids.ann, jids.ben, jids.cat]) expect([r.get(o)?.subscription, r.get(o)?.groups.includes(GROUP)], o).to.deep.equal(['both', true]);
    expect((await roster(ben)).get(dan.jid)?.groups).to.include(GROUP);
    const item = (await bookmarks(dan)).find((i) => i.attrs.id === ROOM);
    expect(item?.getChild('conference', NS_BOOKMARKS)?.attrs.autojoin).to.be.oneOf(['true', '1']);
  });

  it('groupJoined without a room: contacts only; a member that fails is counted and the others still made', async () => {
    const eve = await stack.user(`eve@${DOMAIN}`);
    const sent: string[] = [];
    const out = await groupJoined({ group: { ...group(), room: undefined }, jid: eve.jid, others: [jids.ann, `ghost@${DOMAIN}`, eve.jid], via: 'invite' }, {
      server: stack.app.server!,
      bot: { inviteToRoom: (to: string) => { sent.push(to); } },
    });
    expect(out).to.deep.equal({ contacts: 1, failed: 1, bookmarked: false, invited: false });
    expect(sent).to.deep.equal([]);
    expect((await roster(eve)).get(jids.ann)?.groups).to.include(GROUP);
  });
});

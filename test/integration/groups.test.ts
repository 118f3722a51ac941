// Groups end to end: members added by an admin, then a new account from an invite
// carrying the group, registered in-band by a real client. Every roster is read by
// its own client; the new member's bookmark (XEP-0402) is read from its own PEP and
// the bot's direct invitation (XEP-0249) from its inbox, as a client would see them.
import { expect } from 'chai';
import xml, { type Element } from '@xmpp/xml';
import type { Actor } from '../../src/invites/types.js';
import { registerWith } from '../helpers/ibr.js';
import { BOT, DOMAIN, PASSWORD, serverName, type Stack, startStack } from '../helpers/stack.js';
import { connectUser, rosterItems, type User } from '../helpers/xmpp-user.js';
import { eventually } from '../helpers/eventually.js';

const BOSS: Actor = { jid: `boss@${DOMAIN}` };
const ROOM = `crew@conference.${DOMAIN}`;

/** Each contact's subscription and roster groups, by bare JID. */
async function rosterWithGroups(user: User): Promise<Map<string, { subscription: string; groups: string[] }>> {
  return new Map((await rosterItems(user)).map((i) => [String(i.attrs.jid), {
    subscription: String(i.attrs.subscription),
    groups: (i.getChildren('group') as Element[]).map((g) => g.text()),
  }]));
}

/** Whether every one of `others` is a `both` contact of `user` in roster group `group`. */
function hasAll(roster: Map<string, { subscription: string; groups: string[] }>, others: string[], group: string): boolean {
  return others.every((o) => roster.get(o)?.subscription === 'both' && roster.get(o)!.groups.includes(group));
}

/** The user's XEP-0402 bookmarks, as its own client reads them from its PEP. */
async function bookmarks(user: User): Promise<Element[]> {
  const res = await user.xmpp.iqCaller.request(xml('iq', { type: 'get' },
    xml('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub' }, xml('items', { node: 'urn:xmpp:bookmarks:1' }))));
  const items = res.getChild('pubsub')?.getChild('items')?.getChildren('item') as Element[] | undefined;
  return items ?? [];
}

describe(`groups: contacts, bookmark and room invitation (real ${serverName()}, bridge + component)`, function () {
  this.timeout(60_000);
  let stack: Stack;
  before(async () => { stack = await startStack(); });
  after(async () => { await stack?.stop(); });

  it('three members added by an admin are each other\'s contacts under the group\'s name, on every side', async () => {
    const members = ['ann', 'bea', 'cal'].map((u) => `${u}@${DOMAIN}`);
    const users = await Promise.all(members.map((m) => stack.user(m)));
    const made = await stack.app.groups.create(BOSS, 'Crew', ROOM);
    expect(made.ok).to.equal(true);
    for (const m of members) expect((await stack.app.groups.add(BOSS, 'Crew', m)).ok).to.equal(true);
    for (const [i, u] of users.entries()) {
      const others = members.filter((_, j) => j !== i);
      await eventually(() => rosterWithGroups(u), (r) => hasAll(r, others, 'Crew'), 15_000);
    }
    // Each member got the room in its bookmarks and an invitation to it.
    await eventually(() => bookmarks(users[0]!), (b) => b.some((i) => i.attrs.id === ROOM), 10_000);
    const invitation = await users[0]!.next(BOT, 10_000);
    expect(invitation?.getChild('x', 'jabber:x:conference')?.attrs.jid).to.equal(ROOM);
  });

  it('a new account from an invite with the group becomes every member\'s contact, bookmarks the room and is invited to it', async () => {
    const created = await stack.app.service.create(BOSS, { kind: 'account', groups: ['crew'], note: 'for the crew' });
    if (!created.ok) throw new Error(created.message);
    expect(created.invite.groups).to.deep.equal(['Crew']);
    await registerWith(stack.server.service, DOMAIN, { token: created.token, username: 'dan', password: PASSWORD });
    const dan = await connectUser(stack.server.service, `dan@${DOMAIN}`, PASSWORD);
    stack.users.push(dan);
    const members = ['ann', 'bea', 'cal'].map((u) => `${u}@${DOMAIN}`);
    await eventually(() => rosterWithGroups(dan), (r) => hasAll(r, members, 'Crew'), 15_000);
    const ann = stack.users.find((u) => u.jid === members[0])!;
    await eventually(() => rosterWithGroups(ann), (r) => hasAll(r, [`dan@${DOMAIN}`], 'Crew'), 15_000);
    expect((await stack.app.groups.get('Crew'))?.members).to.deep.equal([...members, `dan@${DOMAIN}`]);
    const marks = await eventually(() => bookmarks(dan), (b) => b.some((i) => i.attrs.id === ROOM), 10_000);
    const conference = marks.find((i) => i.attrs.id === ROOM)!.getChild('conference', 'urn:xmpp:bookmarks:1');
    expect(conference?.attrs.autojoin).to.be.oneOf(['true', '1']);
    expect(conference?.attrs.name).to.equal('Crew');
    // Sent while dan was registering: kept offline by the server and delivered at login, or live.
    const invitation = await dan.next(BOT, 10_000);
    expect(invitation?.getChild('x', 'jabber:x:conference')?.attrs.jid).to.equal(ROOM);
  });
});

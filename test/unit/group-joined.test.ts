// What joining a group asks of the server and the bot (src/groups/joined.ts), with stand-ins.
import { expect } from 'chai';
import xml from '@xmpp/xml';
import { groupJoined } from '../../src/groups/joined.js';
import type { JoinedEvent } from '../../src/groups/types.js';
import { BridgedServer } from '../../src/server/bridged.js';
import type { StepOutcome } from '../../src/server/server.js';
import { Xep0133Server } from '../../src/server/xep0133/adapter.js';
import { AdminCommands } from '../../src/xmpp/admin-commands.js';
import { directInvitation } from '../../src/xmpp/stanzas.js';

const event = (over: Partial<JoinedEvent> = {}): JoinedEvent => ({
  group: { name: 'Choir', room: 'choir@muc.example.org', members: ['a@example.org', 'b@example.org', 'c@example.org'], createdAt: '2026-12-01T00:00:00Z', createdBy: 'boss@example.org' },
  jid: 'c@example.org',
  others: ['a@example.org', 'b@example.org'],
  via: 'invite',
  ...over,
});

function stand(contacts: (a: string, b: string) => StepOutcome = () => ({ outcome: 'done' }), bookmark: StepOutcome = { outcome: 'done' }) {
  const asked: { contacts: [string, string, string | undefined][]; bookmarks: [string, string, string][]; invited: [string, string, string?, string?][] } = { contacts: [], bookmarks: [], invited: [] };
  return {
    asked,
    deps: {
      server: {
        makeContacts: async (a: string, b: string, g?: string) => { asked.contacts.push([a, b, g]); return contacts(a, b); },
        addBookmark: async (j: string, r: string, n: string) => { asked.bookmarks.push([j, r, n]); return bookmark; },
      },
      bot: { inviteToRoom: (to: string, room: string, reason?: string, lang?: string) => { asked.invited.push([to, room, reason, lang]); } },
    },
  };
}

describe('groupJoined', () => {
  it('makes the new member a contact of each other member under the group\'s name, bookmarks the room and invites to it', async () => {
    const s = stand();
    const out = await groupJoined(event(), { ...s.deps, invitation: () => ({ reason: 'Welcome to Choir', lang: 'de' }) });
    expect(out).to.deep.equal({ contacts: 2, failed: 0, bookmarked: true, invited: true });
    expect(s.asked.contacts.sort()).to.deep.equal([['c@example.org', 'a@example.org', 'Choir'], ['c@example.org', 'b@example.org', 'Choir']]);
    expect(s.asked.bookmarks).to.deep.equal([['c@example.org', 'choir@muc.example.org', 'Choir']]);
    expect(s.asked.invited).to.deep.equal([['c@example.org', 'choir@muc.example.org', 'Welcome to Choir', 'de']]);
  });

  it('never befriends the member with itself, nor anyone twice', async () => {
    const s = stand();
    const out = await groupJoined(event({ others: ['a@example.org', 'C@example.org', 'A@example.org/phone', 'b@example.org'] }), s.deps);
    expect(out.contacts).to.equal(2);
    expect(s.asked.contacts.map((c) => c[1]).sort()).to.deep.equal(['a@example.org', 'b@example.org']);
  });

  it('counts failures, goes on with the others, and still bookmarks and invites', async () => {
    const s = stand((_, b) => (b === 'a@example.org' ? { outcome: 'failed', why: 'timeout' } : { outcome: 'done' }), { outcome: 'failed', why: 'conflict' });
    const out = await groupJoined(event(), s.deps);
    expect(out).to.deep.equal({ contacts: 1, failed: 1, bookmarked: false, invited: true });
  });

  it('a server that cannot make contacts is asked once, not for every member', async () => {
    const s = stand(() => ({ outcome: 'unsupported', why: 'no bridge' }));
    const out = await groupJoined(event({ others: Array.from({ length: 20 }, (_, i) => `m${i}@example.org`) }), { ...s.deps, concurrency: 1 });
    expect(out).to.include({ contacts: 0, failed: 20 });
    expect(s.asked.contacts).to.have.length(1);
  });

  it('no room: no bookmark, no invitation; no server: nothing asked of it, the invitation still sent', async () => {
    const s = stand();
    expect(await groupJoined(event({ group: { ...event().group, room: undefined } }), s.deps)).to.deep.equal({ contacts: 2, failed: 0, bookmarked: false, invited: false });
    expect([s.asked.bookmarks, s.asked.invited]).to.deep.equal([[], []]);
    const t = stand();
    expect(await groupJoined(event(), { bot: t.deps.bot })).to.deep.equal({ contacts: 0, failed: 2, bookmarked: false, invited: true });
  });

  it('the bridged adapter passes the group to befriend and maps an older bridge\'s answer to unsupported; XEP-0133 cannot bookmark', async () => {
    const calls: unknown[][] = [];
    class Bridged extends BridgedServer {
      readonly kind = 'prosody' as const;
      readonly grantsRoles = true;
      protected readonly mustConfirmReset = false;
      async grantRoles(): Promise<StepOutcome> { return { outcome: 'done' }; }
    }
    const admin = new AdminCommands({ request: async () => { throw new Error('unused'); } } as never, 'example.org');
    const old = Object.assign(new Error('feature-not-implemented - Unknown bridge request'), { condition: 'feature-not-implemented' });
    const bridge = {
      account: async () => undefined, nodeprep: async () => undefined, grant: async () => {},
      befriend: async (...a: unknown[]) => { calls.push(a); },
      bookmark: async () => { throw old; },
    };
    const s = new Bridged(bridge, admin, undefined);
    expect(await s.makeContacts('a@example.org', 'b@example.org', 'Choir')).to.deep.equal({ outcome: 'done' });
    expect(calls).to.deep.equal([['example.org', 'a@example.org', 'b@example.org', 'Choir']]);
    expect([s.bookmarks, (await s.addBookmark('a@example.org', 'r@muc.example.org', 'Choir')).outcome]).to.deep.equal([true, 'unsupported']);
    const without = new Bridged({ ...bridge, bookmark: undefined }, admin, undefined);
    expect([without.bookmarks, (await without.addBookmark('a@example.org', 'r@muc.example.org', 'Choir')).outcome]).to.deep.equal([false, 'unsupported']);
    const x = new Xep0133Server(admin, { name: 'prosody', version: '13.0.1', source: 'xep0092' });
    expect([x.bookmarks, await x.addBookmark()]).to.deep.equal([false, { outcome: 'unsupported', why: 'Prosody 13.0.1 without mod_invites_bridge cannot add a room to an account\'s bookmarks' }]);
  });

  it('the direct invitation is XEP-0249\'s: a message with only the conference element', () => {
    expect(directInvitation('c@example.org', 'choir@muc.example.org', 'Welcome', 'de').toString()).to.equal(
      xml('message', { to: 'c@example.org', 'xml:lang': 'de' }, xml('x', { xmlns: 'jabber:x:conference', jid: 'choir@muc.example.org', reason: 'Welcome' })).toString());
    expect(directInvitation('c@example.org', 'choir@muc.example.org').toString()).to.equal(
      '<message to="c@example.org"><x xmlns="jabber:x:conference" jid="choir@muc.example.org"/></message>');
  });
});

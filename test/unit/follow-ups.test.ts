// What follows a used invite: who is told what, and when contacts are made.
import { expect } from 'chai';
import xml from '@xmpp/xml';
import { commandMessage } from '../../src/bot/bot.js';
import { followUp } from '../../src/follow-ups.js';
import type { UsedEvent } from '../../src/invites/service.js';
import type { Invite } from '../../src/invites/types.js';

const invite = (over: Partial<Invite>): Invite => ({
  id: 'abcd1234', tokenHash: 'x', kind: 'account', createdBy: 'boss@example.org', roles: [], maxUses: 1, uses: [],
  createdAt: '2026-11-21T12:00:00Z', expiresAt: '2026-11-28T12:00:00Z', ...over,
});

function deps() {
  const told: [string, string][] = [];
  const befriended: string[][] = [];
  const granted: [string, string, string[]][] = [];
  return {
    told, befriended, granted,
    deps: {
      bot: { tell: (to: string, body: string) => { told.push([to, body]); } },
      component: {
        befriend: async (host: string, a: string, b: string) => { befriended.push([host, a, b]); },
        grant: async (host: string, jid: string, roles: readonly string[]) => { granted.push([host, jid, [...roles]]); },
      },
      domain: 'example.org',
    },
  };
}

describe('follow-ups of a used invite', () => {
  it('befriends inviter and new account for account+contact registrations only', async () => {
    const d = deps();
    const ac = invite({ kind: 'account-contact', inviter: 'ann@example.org', createdBy: 'ann@example.org' });
    await followUp({ invite: ac, usedBy: 'bea@example.org', purpose: 'register', rolesApplied: false }, d.deps);
    await followUp({ invite: ac, usedBy: 'cat@example.org', purpose: 'roster', rolesApplied: false }, d.deps);
    expect(d.befriended).to.deep.equal([['example.org', 'ann@example.org', 'bea@example.org']]);
    expect(d.told).to.deep.equal([
      ['ann@example.org', 'bea@example.org joined with your invite abcd1234; you are now contacts.'],
      ['ann@example.org', 'cat@example.org added you as a contact with your invite abcd1234.'],
    ]);
  });

  it('tells the admin who made an account, admin or reset invite; never the CLI', async () => {
    const d = deps();
    const events: UsedEvent[] = [
      { invite: invite({ roles: ['admin'] }), usedBy: 'new@example.org', purpose: 'register', rolesApplied: false },
      { invite: invite({ kind: 'reset', username: 'old' }), usedBy: 'old@example.org', purpose: 'register', rolesApplied: false },
      { invite: invite({ createdBy: 'cli' }), usedBy: 'quiet@example.org', purpose: 'register', rolesApplied: false },
    ];
    for (const e of events) await followUp(e, d.deps);
    expect(d.told).to.deep.equal([
      ['boss@example.org', 'new@example.org joined with your invite abcd1234. They are an administrator now.'],
      ['boss@example.org', 'The password of old@example.org was reset with invite abcd1234.'],
    ]);
    expect(d.befriended).to.deep.equal([]);
  });

  it('asks the server to give the roles only where the bridge did not already (the web form)', async () => {
    const d = deps();
    const inv = invite({ roles: ['admin', 'member'] });
    await followUp({ invite: inv, usedBy: 'web@example.org', purpose: 'register', rolesApplied: false }, d.deps);
    await followUp({ invite: inv, usedBy: 'ibr@example.org', purpose: 'register', rolesApplied: true }, d.deps);
    await followUp({ invite: invite({}), usedBy: 'plain@example.org', purpose: 'register', rolesApplied: false }, d.deps);
    expect(d.granted).to.deep.equal([['example.org', 'web@example.org', ['prosody:admin', 'prosody:member']]]);
  });

  it('still tells the inviter when making contacts fails, and says so', async () => {
    const d = deps();
    d.deps.component.befriend = async () => { throw new Error('service-unavailable'); };
    const ok = await followUp({ invite: invite({ kind: 'account-contact', inviter: 'ann@example.org' }), usedBy: 'bea@example.org', purpose: 'register', rolesApplied: false }, d.deps);
    expect(ok, 'reported as not all done (the relay keeps it)').to.equal(false);
    expect(d.told).to.deep.equal([
      ['ann@example.org', 'bea@example.org joined with your invite abcd1234, but could not be added to your contacts: add them yourself.'],
    ]);
  });
});

describe('the bot answers people only', () => {
  const msg = (from: string, body = 'invite') => xml('message', { from, type: 'chat' }, xml('body', {}, body));
  it('ignores the server\'s and components\' own messages (e.g. registration notices)', () => {
    expect(commandMessage(msg('localhost'), 'bot@localhost')).to.equal(undefined);
    expect(commandMessage(msg('invites.localhost/x'), 'bot@localhost')).to.equal(undefined);
    expect(commandMessage(msg('ann@localhost/phone'), 'bot@localhost')?.sender).to.equal('ann@localhost');
  });
});

// What follows a used invite: who is told what, and when contacts are made.
import { expect } from 'chai';
import xml from '@xmpp/xml';
import { commandMessage } from '../../src/bot/bot.js';
import { followUp, followUpOutcome } from '../../src/follow-ups.js';
import type { UsedEvent } from '../../src/invites/service.js';
import type { Invite, Role } from '../../src/invites/types.js';
import type { StepOutcome } from '../../src/server/server.js';

const invite = (over: Partial<Invite>): Invite => ({
  id: 'abcd1234', tokenHash: 'x', kind: 'account', createdBy: 'boss@example.org', roles: [], maxUses: 1, uses: [],
  createdAt: '2026-11-21T12:00:00Z', expiresAt: '2026-11-28T12:00:00Z', ...over,
});

/** A server seam that records what it was asked; `kind` says what it can do (as the adapters do). */
function deps(kind: 'prosody' | 'ejabberd' | 'xep0133' = 'prosody') {
  const told: [string, string][] = [];
  const befriended: string[][] = [];
  const granted: [string, string[]][] = [];
  const server = {
    grantsRoles: kind === 'prosody',
    makeContacts: async (a: string, b: string): Promise<StepOutcome> => {
      if (kind === 'xep0133') return { outcome: 'unsupported', why: 'no bridge' };
      befriended.push([a, b]);
      return { outcome: 'done' };
    },
    grantRoles: async (jid: string, roles: readonly Role[]): Promise<StepOutcome> => {
      if (kind !== 'prosody') return { outcome: 'unsupported', why: 'no roles here' };
      granted.push([jid, [...roles]]);
      return { outcome: 'done' };
    },
  };
  return { told, befriended, granted, deps: { bot: { tell: (to: string, body: string) => { told.push([to, body]); } }, server } };
}

describe('follow-ups of a used invite', () => {
  it('befriends inviter and new account for account+contact registrations only', async () => {
    const d = deps();
    const ac = invite({ kind: 'account-contact', inviter: 'ann@example.org', createdBy: 'ann@example.org' });
    await followUp({ invite: ac, usedBy: 'bea@example.org', purpose: 'register', rolesApplied: false }, d.deps);
    await followUp({ invite: ac, usedBy: 'cat@example.org', purpose: 'roster', rolesApplied: false }, d.deps);
    expect(d.befriended).to.deep.equal([['ann@example.org', 'bea@example.org']]);
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
    expect(d.granted).to.deep.equal([['web@example.org', ['admin', 'member']]]);
  });

  it('still tells the inviter when making contacts fails, and says so', async () => {
    const d = deps();
    d.deps.server.makeContacts = async () => ({ outcome: 'failed', why: 'service-unavailable' });
    const ok = await followUp({ invite: invite({ kind: 'account-contact', inviter: 'ann@example.org' }), usedBy: 'bea@example.org', purpose: 'register', rolesApplied: false }, d.deps);
    expect(ok, 'reported as not all done (the relay keeps it)').to.equal(false);
    expect(d.told).to.deep.equal([
      ['ann@example.org', 'bea@example.org joined with your invite abcd1234, but could not be added to your contacts: add them yourself.'],
    ]);
  });

  it('without a bridge: no contacts and no roles claimed, and nothing kept to try again', async () => {
    const d = deps('xep0133');
    const ac = invite({ kind: 'account-contact', inviter: 'ann@example.org', createdBy: 'ann@example.org' });
    const o = await followUpOutcome({ invite: ac, usedBy: 'bea@example.org', purpose: 'register', rolesApplied: false }, d.deps);
    expect(o).to.deep.equal({ contactsMade: false, granted: true, cannot: ['contacts'] });
    expect(await followUp({ invite: invite({ roles: ['admin'] }), usedBy: 'new@example.org', purpose: 'register', rolesApplied: false }, d.deps),
      'a step this server cannot do is not retried').to.equal(true);
    expect(d.told.map(([, body]) => body)).to.deep.equal([
      'bea@example.org joined with your invite abcd1234, but could not be added to your contacts: add them yourself.',
      'new@example.org joined with your invite abcd1234. They are an administrator of invites here; the chat server\'s own administrators are set in its configuration.',
    ]);
  });

  it('on ejabberd: contacts through the bridge, admin roles said to be this service\'s (also after an in-band registration)', async () => {
    const d = deps('ejabberd');
    await followUp({ invite: invite({ roles: ['admin'] }), usedBy: 'ibr@example.org', purpose: 'register', rolesApplied: true }, d.deps);
    await followUp({ invite: invite({ roles: ['admin'] }), usedBy: 'web@example.org', purpose: 'register', rolesApplied: false }, d.deps);
    expect(d.told.map(([, body]) => body)).to.deep.equal([
      'ibr@example.org joined with your invite abcd1234. They are an administrator of invites here; the chat server\'s own administrators are set in its configuration.',
      'web@example.org joined with your invite abcd1234. They are an administrator of invites here; the chat server\'s own administrators are set in its configuration.',
    ]);
    expect(d.granted).to.deep.equal([]);
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

// Long lists come a page at a time: from the store (binary search, no scan),
// through the bot ("invites next") and the ad-hoc list command ("next").
import { expect } from 'chai';
import { commands } from '../../commands/index.js';
import { Adhoc } from '../../src/adhoc/adhoc.js';
import { NODE } from '../../src/adhoc/commands.js';
import { Dispatcher } from '../../src/bot/dispatch.js';
import { NS_COMMANDS } from '../../src/adhoc/stanzas.js';
import { command, fieldsOf, formOf, notesOf, rowsOf } from '../helpers/adhoc.js';
import { type Core, makeCore } from '../helpers/core.js';

const ADMIN = { jid: 'boss@example.org' };
const ANN = { jid: 'ann@example.org' };

describe('lists, page by page', () => {
  let core: Core;
  /** Ids of the admin's invites, in creation order (the clock moves a second each). */
  let made: string[];

  beforeEach(async () => {
    core = await makeCore({ maxInvitesPerUser: 100 });
    made = [];
    for (let i = 0; i < 45; i++) {
      core.clock.now = new Date(Date.parse('2026-11-21T12:00:00Z') + i * 1000);
      const r = await core.service.create(ADMIN, { kind: 'account' });
      if (!r.ok) throw new Error(r.message);
      made.push(r.invite.id);
      if (i % 10 === 0) await core.service.create(ANN, { kind: 'contact' });
    }
  });
  afterEach(() => core.cleanup());

  it('the store pages through one creator\'s invites, oldest first, each exactly once, skipping ended ones', async () => {
    await core.service.revoke(ADMIN, made[3]!);
    const seen: string[] = [];
    let after: string | undefined;
    const sizes: number[] = [];
    do {
      const page = await core.store.page({ createdBy: ADMIN.jid, openAt: core.clock.now, after, limit: 20 });
      sizes.push(page.invites.length);
      seen.push(...page.invites.map((i) => i.id));
      after = page.next;
    } while (after);
    expect(sizes).to.deep.equal([20, 20, 4]);
    expect(seen).to.deep.equal(made.filter((_, i) => i !== 3));
  });

  it('every creator\'s list has them all; a page ending exactly at the end has no next', async () => {
    const all = await core.store.page({ openAt: core.clock.now, limit: 50 });
    expect(all.invites).to.have.length(50);
    expect(all.next).to.equal(undefined);
    const first = await core.store.page({ openAt: core.clock.now, limit: 49 });
    expect(first.next).to.be.a('string');
    const rest = await core.store.page({ openAt: core.clock.now, after: first.next, limit: 49 });
    expect(rest.invites).to.have.length(1);
    expect(rest.next).to.equal(undefined);
  });

  it('the bot shows 20 at a time and "invites next" goes on, to the end', async () => {
    const d = new Dispatcher(core.service, commands, () => core.clock.now);
    const first = await d.handle(ADMIN.jid, 'invites');
    expect(first.split('\n')[0]).to.equal('Pending invites 1–20:');
    expect(first).to.include(made[0]!).and.include(made[19]!).and.not.include(made[20]!);
    expect(first.split('\n').at(-1)).to.equal('Type "invites next" for more.');
    const second = await d.handle(ADMIN.jid, 'invites next');
    expect(second.split('\n')[0]).to.equal('Pending invites 21–40:');
    expect(second).to.include(made[20]!).and.include(made[39]!);
    const last = await d.handle(ADMIN.jid, 'invites next');
    expect(last.split('\n')[0]).to.equal('Pending invites 41–45, the last ones:');
    expect(last.split('\n')).to.have.length(6);
    expect(await d.handle(ADMIN.jid, 'invites next')).to.match(/^There is no list to go on with\./);
    // Someone else's place is their own.
    expect(await d.handle(ANN.jid, 'invites next')).to.match(/^There is no list to go on with\./);
    expect(await d.handle(ANN.jid, 'invites')).to.match(/^5 pending invites:/);
  });

  it('the ad-hoc list offers "next" while there are more, and ends on the last page', async () => {
    const adhoc = new Adhoc(core.service, { now: () => core.clock.now });
    const choice = await adhoc.execute(ADMIN.jid, command(NODE.list, { action: 'execute' }));
    const sessionid = String(choice.attrs.sessionid);
    const page1 = await adhoc.execute(ADMIN.jid, command(NODE.list, { sessionid, action: 'complete' }, { all: '0' }));
    expect(page1.attrs.status).to.equal('executing');
    expect(page1.getChild('actions', NS_COMMANDS)?.attrs.execute).to.equal('next');
    expect(page1.getChild('actions', NS_COMMANDS)?.getChildElements().map((e) => e.name)).to.deep.equal(['next', 'complete']);
    expect(rowsOf(formOf(page1)).map((r) => r.id)).to.deep.equal(made.slice(0, 20));
    expect(notesOf(page1)[0]!.text).to.equal('Pending invites 1–20; "next" shows more.');
    const page2 = await adhoc.execute(ADMIN.jid, command(NODE.list, { sessionid, action: 'next' }));
    expect(rowsOf(formOf(page2)).map((r) => r.id)).to.deep.equal(made.slice(20, 40));
    const page3 = await adhoc.execute(ADMIN.jid, command(NODE.list, { sessionid, action: 'execute' }));
    expect(page3.attrs.status).to.equal('completed');
    expect(rowsOf(formOf(page3)).map((r) => r.id)).to.deep.equal(made.slice(40));
    expect(notesOf(page3)[0]!.text).to.equal('Pending invites 41–45, the last of 45.');
  });

  it('the ad-hoc list can be ended early with "complete"', async () => {
    const adhoc = new Adhoc(core.service, { now: () => core.clock.now });
    const choice = await adhoc.execute(ADMIN.jid, command(NODE.list, { action: 'execute' }));
    const sessionid = String(choice.attrs.sessionid);
    await adhoc.execute(ADMIN.jid, command(NODE.list, { sessionid, action: 'complete' }, { all: '1' }));
    const done = await adhoc.execute(ADMIN.jid, command(NODE.list, { sessionid, action: 'complete' }));
    expect(done.attrs.status).to.equal('completed');
    expect(notesOf(done)[0]!.text).to.equal('20 pending invites shown.');
  });

  it('a page is found past a run of ended invites longer than the store looks at between turns of the loop', async () => {
    const many = await makeCore({ maxInvitesPerUser: 10_000 });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5000; i++) {
        many.clock.now = new Date(Date.parse('2026-11-21T12:00:00Z') + i * 10);
        const r = await many.service.create(ADMIN, { kind: 'account' });
        if (!r.ok) throw new Error(r.message);
        ids.push(r.invite.id);
      }
      // The first 4,990 ended (revoked): they stay listed until archived.
      for (const id of ids.slice(0, 4990)) await many.service.revoke(ADMIN, id);
      const page = await many.store.page({ openAt: many.clock.now, limit: 20 });
      expect(page.invites.map((i) => i.id)).to.deep.equal(ids.slice(4990));
      expect(page.next).to.equal(undefined);
      const mine = await many.store.page({ createdBy: ADMIN.jid, openAt: many.clock.now, limit: 5 });
      expect(mine.invites.map((i) => i.id)).to.deep.equal(ids.slice(4990, 4995));
    } finally {
      await many.cleanup();
    }
  });

  it('revoke offers a choice of up to 100, and a field to type the id in past that', async () => {
    const adhoc = new Adhoc(core.service, { now: () => core.clock.now });
    const few = await adhoc.execute(ADMIN.jid, command(NODE.revoke, { action: 'execute' }));
    expect(fieldsOf(formOf(few)).id!.type).to.equal('list-single');
    for (let i = 0; i < 60; i++) await core.service.create(ADMIN, { kind: 'account' });
    const many = await adhoc.execute(ADMIN.jid, command(NODE.revoke, { action: 'execute' }));
    expect(fieldsOf(formOf(many)).id!.type).to.equal('text-single');
    const done = await adhoc.execute(ADMIN.jid, command(NODE.revoke, { sessionid: String(many.attrs.sessionid), action: 'complete' }, { id: made[7]! }));
    expect(notesOf(done)[0]!.text).to.equal(`Invite ${made[7]} is revoked: it can no longer be used.`);
  });
});

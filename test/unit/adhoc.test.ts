// The ad-hoc engine without a server: a real invite core over a temp store,
// <command/> elements in, replies out.
import { expect } from 'chai';
import xml, { type Element } from '@xmpp/xml';
import { Adhoc } from '../../src/adhoc/adhoc.js';
import { attachAdhoc, type IqHandler, type IqRouter } from '../../src/adhoc/attach.js';
import { type AdhocCommand, NODE } from '../../src/adhoc/commands.js';
import { infoFor, itemsFor } from '../../src/adhoc/disco.js';
import { Sessions } from '../../src/adhoc/sessions.js';
import { GroupService } from '../../src/groups/service.js';
import { SenderLimit } from '../../src/rate-limit.js';
import { booleanValue, dataForm, dateTime, formValues, singleValue } from '../../src/xmpp/forms.js';
import { command, errorOf, fieldsOf, formOf, invitationOf, notesOf, rowsOf, tokenOf } from '../helpers/adhoc.js';
import { type Core, makeCore } from '../helpers/core.js';

const ADMIN = 'boss@example.org';
const USER = 'ann@example.org';
const OTHER = 'bob@example.org';
const FOREIGN = 'eve@evil.example';
const ALL_NODES = [NODE.invite, NODE.inviteOptions, NODE.createAccount, NODE.reset, NODE.list, NODE.revoke];

describe('data forms (src/xmpp/forms.ts)', () => {
  it('builds typed fields with options, required and desc, and reads submitted values back', () => {
    const x = dataForm('form', {
      title: 'T',
      fields: [
        { var: 'a', type: 'text-single', label: 'A', desc: 'why', required: true, values: ['1'] },
        { var: 'b', type: 'list-single', values: ['x'], options: [{ value: 'x', label: 'X' }, { value: 'y' }] },
      ],
    });
    expect(x.attrs).to.include({ xmlns: 'jabber:x:data', type: 'form' });
    expect(x.getChildText('title')).to.equal('T');
    const f = fieldsOf(x);
    expect(f.a).to.deep.equal({ type: 'text-single', values: ['1'], required: true, options: [] });
    expect(f.b!.options).to.deep.equal(['x', 'y']);
    expect(x.getChild('field')!.getChildText('desc')).to.equal('why');
    const v = formValues(x);
    expect(singleValue(v, 'a')).to.equal('1');
    expect(singleValue(v, 'missing')).to.equal(undefined);
  });

  it('reads booleans as XEP-0004 does, and nothing from a foreign namespace', () => {
    const v = formValues(command('n', {}, { t: '1', T: 'TRUE', f: 'false', z: '0', bad: 'yes', blank: '  ' }).getChild('x')!);
    expect([booleanValue(v, 't'), booleanValue(v, 'T'), booleanValue(v, 'f'), booleanValue(v, 'z')]).to.deep.equal([true, true, false, false]);
    expect(booleanValue(v, 'bad')).to.equal(undefined);
    expect(booleanValue(v, 'blank')).to.equal(undefined);
    expect(formValues(xml('x', { xmlns: 'urn:other' }, xml('field', { var: 'a' }, xml('value', {}, '1')))).size).to.equal(0);
    expect(formValues(undefined).size).to.equal(0);
  });

  it('writes a table as reported columns and items', () => {
    const x = dataForm('result', { reported: [{ var: 'id', label: 'Id' }], items: [{ id: 'a' }, { id: undefined }] });
    expect(x.getChild('reported')!.getChildren('field').map((f) => f.attrs.var)).to.deep.equal(['id']);
    expect(rowsOf(x)).to.deep.equal([{ id: 'a' }, { id: '' }]);
  });

  it('writes XEP-0082 DateTime in UTC without fractions', () => {
    expect(dateTime('2026-11-28T14:03:00.123Z')).to.equal('2026-11-28T14:03:00Z');
    expect(dateTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).to.equal('2026-01-02T03:04:05Z');
  });
});

describe('ad-hoc sessions', () => {
  const limits = { ttlMs: 1000, max: 4, maxPerOwner: 2 };
  let t = 0;
  const now = () => t;
  beforeEach(() => { t = 0; });
  /** Open, expecting a session. */
  const open = <T>(s: Sessions<T>, owner: string, state: T, pool: 'admin' | 'user' = 'user') => s.open(owner, 'n', state, pool)!;

  it('forgets a session after its time, and a touch gives it more', () => {
    const s = new Sessions<string>(limits, now);
    const a = open(s, 'x', 'one');
    const b = open(s, 'y', 'two');
    t = 900;
    s.touch(a, 'again');
    t = 1000;
    expect(s.get(b.id)).to.equal(undefined);
    expect(s.get(a.id)?.state).to.equal('again');
    t = 1900;
    expect(s.get(a.id)).to.equal(undefined);
    expect(s.size).to.equal(0);
  });

  it('holds at most maxPerOwner per asker (their oldest goes) and max in a pool', () => {
    const s = new Sessions<number>(limits, now);
    const [a1, a2, a3] = [open(s, 'a', 1), open(s, 'a', 2), open(s, 'a', 3)];
    expect(s.get(a1.id)).to.equal(undefined);
    expect([s.get(a2.id)?.state, s.get(a3.id)?.state]).to.deep.equal([2, 3]);
    const b1 = open(s, 'b', 4);
    open(s, 'c', 5);
    expect(s.size).to.equal(4);
    open(s, 'd', 6); // the pool is full: the oldest session of an asker at their cap (a2) goes
    expect(s.size).to.equal(4);
    expect(s.get(a2.id)).to.equal(undefined);
    expect([s.get(a3.id)?.state, s.get(b1.id)?.state]).to.deep.equal([3, 4]);
  });

  it('a full pool of askers holding one session each refuses a new one instead of evicting', () => {
    const s = new Sessions<number>(limits, now);
    const held = ['a', 'b', 'c', 'd'].map((o, i) => open(s, o, i));
    expect(s.open('e', 'n', 9)).to.equal(undefined);
    for (const h of held) expect(s.get(h.id)?.state).to.equal(h.state);
    t = 1000; // they expire, and room is made
    expect(s.open('e', 'n', 9)?.state).to.equal(9);
  });

  it('200 accounts filling every session leave an admin\'s session, and one under its cap, alone', () => {
    const s = new Sessions<number>({ ttlMs: 60_000, max: 1000, maxPerOwner: 5 }, now);
    const admin = open(s, 'boss@x', -1, 'admin');
    const user = open(s, 'ann@x', -2);
    for (let i = 0; i < 200 * 5; i++) open(s, `mallory${i % 200}@x`, i);
    expect(s.get(admin.id)?.state).to.equal(-1);
    expect(s.get(user.id)?.state).to.equal(-2);
    // Another admin still gets one: the admins' pool is their own.
    expect(s.open('chief@x', 'n', -3, 'admin')?.state).to.equal(-3);
    // And so does a new ordinary account: an attacker at its cap gives way.
    expect(s.open('new@x', 'n', -4)?.state).to.equal(-4);
  });

  it('250 accounts holding 4 sessions each, none at its cap, do not keep a newcomer out: the oldest of one holding more than one gives way', () => {
    const s = new Sessions<number>({ ttlMs: 60_000, max: 1000, maxPerOwner: 5 }, now);
    for (let i = 0; i < 250 * 4; i++) open(s, `mallory${i % 250}@x`, i);
    const ann = open(s, 'ann@x', -1);
    expect(ann.state).to.equal(-1);
    expect(s.size).to.equal(1000);
    // Each newcomer in turn; ann's single session stays.
    for (let k = 0; k < 100; k++) expect(s.open(`new${k}@x`, 'n', k)?.state).to.equal(k);
    expect(s.get(ann.id)?.state).to.equal(-1);
  });

  it('stays bounded under a flood', () => {
    const s = new Sessions<number>({ ttlMs: 60_000, max: 100, maxPerOwner: 5 }, now);
    for (let i = 0; i < 10_000; i++) s.open(`u${i % 300}@x`, 'n', i);
    expect(s.size).to.equal(100);
    s.clear();
    expect(s.size).to.equal(0);
  });
});

describe('ad-hoc commands (engine)', () => {
  let core: Core;
  let adhoc: Adhoc;
  const run = (asker: string, el: Element) => adhoc.execute(asker, el);
  const start = (asker: string, node: string) => run(asker, command(node, { action: 'execute' }));
  const submit = (asker: string, node: string, sessionid: string, values: Record<string, string | string[]>, action = 'complete') =>
    run(asker, command(node, { sessionid, action }, values));

  beforeEach(async () => {
    core = await makeCore();
    adhoc = new Adhoc(core.service, { now: () => core.clock.now, sessions: { ttlMs: 10 * 60_000 } });
  });
  afterEach(() => core.cleanup());

  /** The invitation result of a completed create command: its fields, and the token. */
  async function invitation(reply: Element) {
    expect(reply.name, reply.toString()).to.equal('command');
    const { fields, uri } = invitationOf(reply);
    return { fields, uri, token: tokenOf(uri), lookup: await core.service.lookup(tokenOf(uri)) };
  }

  describe('who sees what', () => {
    it('lists every command for an admin, contact/list/revoke for a user, none for another domain', async () => {
      expect((await adhoc.available(ADMIN)).map((c) => c.node)).to.deep.equal(ALL_NODES);
      expect((await adhoc.available(USER)).map((c) => c.node)).to.deep.equal([NODE.invite, NODE.inviteOptions, NODE.list, NODE.revoke]);
      expect(await adhoc.available(FOREIGN)).to.deep.equal([]);
    });

    it('hides the contact invite when contact invites are off, but not when the user is at the quota', async () => {
      const offCore = await makeCore({ allowContactInvites: false });
      expect((await new Adhoc(offCore.service).available(USER)).map((c) => c.node)).to.deep.equal([NODE.list, NODE.revoke]);
      await offCore.cleanup();
      for (let i = 0; i < 3; i++) await invitation(await start(USER, NODE.invite));
      expect((await adhoc.available(USER)).map((c) => c.node)).to.include(NODE.invite);
    });

    it('disco#items on the commands node names each command at the given JID; info per node', async () => {
      const items = await itemsFor(adhoc, USER, 'http://jabber.org/protocol/commands', 'bot@example.org/r');
      expect(items.getChildren('item').map((i) => i.attrs)).to.deep.equal([
        { jid: 'bot@example.org/r', node: NODE.invite, name: 'Create new contact invite' },
        { jid: 'bot@example.org/r', node: NODE.inviteOptions, name: 'Create contact invite with options' },
        { jid: 'bot@example.org/r', node: NODE.list, name: 'List pending invites' },
        { jid: 'bot@example.org/r', node: NODE.revoke, name: 'Revoke an invite' },
      ]);
      expect((await itemsFor(adhoc, USER, undefined, 'j')).getChildren('item')).to.have.length(0);
      expect(errorOf(await itemsFor(adhoc, USER, 'nope', 'j')).condition).to.equal('item-not-found');

      const root = await infoFor(adhoc, USER, undefined, { category: 'client', type: 'bot' });
      expect(root.getChildren('feature').map((f) => f.attrs.var)).to.include('http://jabber.org/protocol/commands');
      expect(root.getChild('identity')!.attrs).to.include({ category: 'client', type: 'bot' });
      expect((await infoFor(adhoc, USER, 'http://jabber.org/protocol/commands', { category: 'client', type: 'bot' })).getChild('identity')!.attrs)
        .to.include({ category: 'automation', type: 'command-list' });
      expect((await infoFor(adhoc, ADMIN, NODE.reset, { category: 'client', type: 'bot' })).getChild('identity')!.attrs)
        .to.include({ category: 'automation', type: 'command-node', name: 'Create password reset invite' });
      const refused = errorOf(await infoFor(adhoc, USER, NODE.reset, { category: 'client', type: 'bot' }));
      expect(refused).to.include({ condition: 'forbidden' });
      expect(errorOf(await infoFor(adhoc, USER, 'nope', { category: 'client', type: 'bot' })).condition).to.equal('item-not-found');
    });
  });

  describe('protocol', () => {
    it('unknown node: item-not-found', async () => {
      expect(errorOf(await start(ADMIN, 'urn:xmpp:invite#nope'))).to.include({ type: 'cancel', condition: 'item-not-found' });
      expect(errorOf(await run(ADMIN, xml('command', { xmlns: 'http://jabber.org/protocol/commands' }))).condition).to.equal('item-not-found');
    });

    it('a right the asker lacks: forbidden, with the core\'s sentence', async () => {
      const e = errorOf(await start(USER, NODE.createAccount));
      expect(e).to.deep.equal({ type: 'auth', condition: 'forbidden', text: 'Only administrators can create account and password-reset invites.', app: undefined });
      expect(errorOf(await start(USER, NODE.reset)).condition).to.equal('forbidden');
      expect(errorOf(await start(FOREIGN, NODE.invite))).to.include({ condition: 'forbidden', text: 'Only accounts on example.org can create invites.' });
      expect(errorOf(await start(FOREIGN, NODE.list))).to.include({ condition: 'forbidden' });
      expect(adhoc.openSessions).to.equal(0);
    });

    it('a multi-stage command keeps a sessionid and offers complete', async () => {
      const first = await start(ADMIN, NODE.createAccount);
      expect(first.attrs).to.include({ status: 'executing', node: NODE.createAccount });
      expect(first.attrs.sessionid).to.be.a('string').and.not.equal('');
      expect(first.getChild('actions')!.attrs.execute).to.equal('complete');
      expect(first.getChild('actions')!.getChild('complete')).to.not.equal(undefined);
      const done = await submit(ADMIN, NODE.createAccount, first.attrs.sessionid, { username: 'juliet' });
      expect(done.attrs.sessionid).to.equal(first.attrs.sessionid);
      expect((await invitation(done)).uri).to.match(/^xmpp:juliet@example\.org\?register;preauth=[A-Za-z0-9_-]{24}$/);
      expect(adhoc.openSessions).to.equal(0);
    });

    it('accepts execute and next as well as complete for the submission', async () => {
      for (const action of ['execute', 'next']) {
        const first = await start(ADMIN, NODE.createAccount);
        await invitation(await submit(ADMIN, NODE.createAccount, first.attrs.sessionid, {}, action));
      }
      // No action attribute at all is execute.
      const first = await run(ADMIN, command(NODE.createAccount));
      expect(first.attrs.status).to.equal('executing');
      await invitation(await run(ADMIN, command(NODE.createAccount, { sessionid: first.attrs.sessionid }, {})));
    });

    it('cancel ends the session: status canceled, and the sessionid is gone', async () => {
      const first = await start(ADMIN, NODE.reset);
      const canceled = await run(ADMIN, command(NODE.reset, { sessionid: first.attrs.sessionid, action: 'cancel' }));
      expect(canceled.attrs).to.include({ status: 'canceled', sessionid: first.attrs.sessionid, node: NODE.reset });
      expect(errorOf(await submit(ADMIN, NODE.reset, first.attrs.sessionid, { accountjid: USER })).app).to.equal('bad-sessionid');
      // A cancelled form (XEP-0004 type cancel) cancels too.
      const second = await start(ADMIN, NODE.reset);
      const viaForm = await run(ADMIN, xml('command', { xmlns: 'http://jabber.org/protocol/commands', node: NODE.reset, sessionid: second.attrs.sessionid },
        xml('x', { xmlns: 'jabber:x:data', type: 'cancel' })));
      expect(viaForm.attrs.status).to.equal('canceled');
      expect(adhoc.openSessions).to.equal(0);
    });

    it('unknown, foreign, other-node and expired sessionids: bad-request with bad-sessionid', async () => {
      const badSession = { type: 'modify', condition: 'bad-request', app: 'bad-sessionid' };
      expect(errorOf(await submit(ADMIN, NODE.reset, 'no-such-session', { accountjid: USER }))).to.include(badSession);
      const mine = await start(ADMIN, NODE.reset);
      const other = await makeCore({ admins: [ADMIN, 'boss2@example.org'] });
      const shared = new Adhoc(other.service);
      const theirs = await shared.execute('boss2@example.org', command(NODE.reset));
      expect(errorOf(await shared.execute(ADMIN, command(NODE.reset, { sessionid: theirs.attrs.sessionid }, { accountjid: USER })))).to.include(badSession);
      await other.cleanup();
      expect(errorOf(await submit(ADMIN, NODE.createAccount, mine.attrs.sessionid, {}))).to.include(badSession);
      expect(errorOf(await run(ADMIN, command(NODE.reset, { sessionid: '', action: 'complete' })))).to.include(badSession);
      // Still there for its owner, until it expires.
      core.clock.now = new Date(core.clock.now.getTime() + 10 * 60_000 + 1);
      expect(errorOf(await submit(ADMIN, NODE.reset, mine.attrs.sessionid, { accountjid: USER }))).to.include(badSession);
    });

    it('prev and unknown actions are refused with XEP-0050\'s conditions', async () => {
      const first = await start(ADMIN, NODE.reset);
      expect(errorOf(await run(ADMIN, command(NODE.reset, { sessionid: first.attrs.sessionid, action: 'prev' }))))
        .to.include({ condition: 'bad-request', app: 'bad-action' });
      expect(errorOf(await run(ADMIN, command(NODE.reset, { action: 'explode' })))).to.include({ condition: 'bad-request', app: 'malformed-action' });
      // The session survives a refused action.
      await invitation(await submit(ADMIN, NODE.reset, first.attrs.sessionid, { accountjid: USER }));
    });

    it('checks the right again at the submission', async () => {
      const admins = [ADMIN, 'carol@example.org'];
      const c = await makeCore({ admins });
      const a = new Adhoc(c.service);
      const first = await a.execute('carol@example.org', command(NODE.createAccount));
      expect(first.attrs.status).to.equal('executing');
      admins.pop(); // carol is no longer an admin
      const refused = await a.execute('carol@example.org', command(NODE.createAccount, { sessionid: first.attrs.sessionid }, {}));
      expect(errorOf(refused)).to.include({ condition: 'forbidden', text: 'Only administrators can create account and password-reset invites.' });
      expect(a.openSessions).to.equal(0);
      await c.cleanup();
    });

    it('an internal failure is internal-server-error, not a crash', async () => {
      const broken: AdhocCommand = {
        node: 'broken', name: 'Broken', access: () => ({ ok: true }),
        start: () => { throw new Error('boom'); },
      };
      const a = new Adhoc(core.service, { commands: [broken] });
      const original = process.stderr.write;
      process.stderr.write = (() => true) as typeof process.stderr.write;
      try {
        expect(errorOf(await a.execute(ADMIN, command('broken')))).to.include({ type: 'cancel', condition: 'internal-server-error' });
      } finally {
        process.stderr.write = original;
      }
    });

    it('one-stage commands complete at once, with a sessionid and no session kept', async () => {
      const reply = await start(USER, NODE.invite);
      expect(reply.attrs.sessionid).to.be.a('string');
      await invitation(reply);
      expect(adhoc.openSessions).to.equal(0);
    });

    it('never holds more than the per-asker cap of sessions', async () => {
      const a = new Adhoc(core.service, { sessions: { maxPerOwner: 2 } });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await a.execute(ADMIN, command(NODE.reset))).attrs.sessionid);
      expect(a.openSessions).to.equal(2);
      expect(errorOf(await a.execute(ADMIN, command(NODE.reset, { sessionid: ids[0]! }, { accountjid: USER }))).app).to.equal('bad-sessionid');
      expect((await a.execute(ADMIN, command(NODE.reset, { sessionid: ids[4]! }, { accountjid: USER }))).attrs.status).to.equal('completed');
    });

    it('ordinary accounts filling every session neither end an admin\'s form nor keep admins out', async () => {
      const a = new Adhoc(core.service, { sessions: { max: 4, maxPerOwner: 2 } });
      const mine = (await a.execute(ADMIN, command(NODE.reset))).attrs.sessionid;
      // Each ordinary account opens revoke forms (its only multi-stage command) up to its cap, and beyond.
      for (let i = 0; i < 6; i++) {
        const user = `u${i}@example.org`;
        expect((await core.service.create({ jid: user }, { kind: 'contact' })).ok).to.equal(true);
        for (let k = 0; k < 3; k++) await a.execute(user, command(NODE.revoke));
      }
      expect((await a.execute(ADMIN, command(NODE.reset, { sessionid: mine }, { accountjid: USER }))).attrs.status).to.equal('completed');
      expect((await a.execute(ADMIN, command(NODE.reset))).attrs.status).to.equal('executing');
    });

    it('holds each non-admin asker to the ad-hoc rate limit with a sentence; admins are exempt by default', async () => {
      const limit = new SenderLimit({ points: 3, duration: 30 });
      const a = new Adhoc(core.service, { limit });
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await a.execute(USER, command(NODE.list)));
      expect(results.slice(0, 3).map((r) => r.attrs.status)).to.deep.equal(['completed', 'completed', 'completed']);
      for (const r of results.slice(3)) {
        expect(errorOf(r)).to.deep.include({ type: 'wait', condition: 'resource-constraint' });
        expect(errorOf(r).text).to.match(/^You are sending commands too fast; wait \d+ seconds and try again\.$/);
      }
      for (let i = 0; i < 6; i++) expect((await a.execute(ADMIN, command(NODE.list))).attrs.status).to.equal('executing');
      // One limit shared by the bot's and the component's commands: asking the other address gains nothing.
      const other = new Adhoc(core.service, { limit });
      expect(errorOf(await other.execute(USER, command(NODE.list))).condition).to.equal('resource-constraint');
      const strict = new Adhoc(core.service, { limit: new SenderLimit({ points: 1, duration: 30 }), limitAdmins: true });
      await strict.execute(ADMIN, command(NODE.list));
      expect(errorOf(await strict.execute(ADMIN, command(NODE.list))).condition).to.equal('resource-constraint');
    });

    it('answers a full house of sessions under their owners\' caps with "try again later", not by evicting one', async () => {
      const a = new Adhoc(core.service, { sessions: { max: 2, maxPerOwner: 2 } });
      const ids: string[] = [];
      for (const user of ['u1@example.org', 'u2@example.org', 'u3@example.org']) {
        expect((await core.service.create({ jid: user }, { kind: 'contact' })).ok).to.equal(true);
        const r = await a.execute(user, command(NODE.revoke));
        ids.push(String(r.attrs.sessionid ?? ''));
        if (user === 'u3@example.org') expect(errorOf(r)).to.deep.include({ type: 'wait', condition: 'resource-constraint' });
      }
      const inv = await core.service.listPending({ jid: 'u1@example.org' });
      const id = inv.ok ? inv.invites[0]!.id : '';
      expect((await a.execute('u1@example.org', command(NODE.revoke, { sessionid: ids[0]! }, { id }))).attrs.status).to.equal('completed');
    });
  });

  describe('contact invite', () => {
    it('gives a user a contact invite the core accepts; no landing-url without PUBLIC_URL', async () => {
      const { fields, uri, lookup } = await invitation(await start(USER, NODE.invite));
      expect(uri).to.match(/^xmpp:ann@example\.org\?roster;preauth=[A-Za-z0-9_-]{24}$/);
      expect(lookup.state).to.equal('valid');
      expect(lookup.invite?.kind).to.equal('contact');
      expect(fields).to.not.have.property('landing-url');
      expect(fields.expire!.values[0]).to.equal('2026-11-28T12:00:00Z');
    });

    it('gives an admin account+contact (ibr=y), and a landing-url when PUBLIC_URL is set', async () => {
      const c = await makeCore({ publicUrl: 'https://invites.example.org' });
      const { fields, uri } = await invitation(await new Adhoc(c.service).execute(ADMIN, command(NODE.invite)));
      expect(uri).to.match(/^xmpp:boss@example\.org\?roster;preauth=[A-Za-z0-9_-]{24};ibr=y$/);
      expect(fields['landing-url']).to.deep.include({ type: 'text-single', values: [`https://invites.example.org/invite/${tokenOf(uri)}`] });
      await c.cleanup();
    });

    it('at the quota: completed, with the core\'s sentence as an error note, nothing made', async () => {
      for (let i = 0; i < 3; i++) await invitation(await start(USER, NODE.invite));
      const reply = await start(USER, NODE.invite);
      expect(reply.attrs.status).to.equal('completed');
      expect(formOf(reply)).to.equal(undefined);
      expect(notesOf(reply)).to.deep.equal([{ type: 'error', text: 'You already have 3 unused invites, the most allowed; revoke one first.' }]);
    });
  });

  describe('account invite', () => {
    async function form(asker = ADMIN) {
      const first = await start(asker, NODE.createAccount);
      return { sid: first.attrs.sessionid as string, fields: fieldsOf(formOf(first)), x: formOf(first)! };
    }

    it('asks username, roster-subscription and role', async () => {
      const { x, fields } = await form();
      expect(x.attrs.type).to.equal('form');
      expect(fields.username).to.deep.include({ type: 'text-single', required: false });
      expect(fields['roster-subscription']).to.deep.include({ type: 'boolean', values: ['0'] });
      expect(fields.role).to.deep.include({ type: 'list-single', values: ['none'], options: ['none', 'admin', 'member', 'registered', 'guest'] });
    });

    it('without a username: an open account invite; with the admin role: roles carried', async () => {
      let { sid } = await form();
      const open = await invitation(await submit(ADMIN, NODE.createAccount, sid, { username: '', 'roster-subscription': '0', role: 'none' }));
      expect(open.uri).to.match(/^xmpp:example\.org\?register;preauth=/);
      expect(open.lookup.invite).to.deep.include({ kind: 'account', roles: [] });
      ({ sid } = await form());
      const admin = await invitation(await submit(ADMIN, NODE.createAccount, sid, { role: 'admin' }));
      expect(admin.lookup.invite?.roles).to.deep.equal(['admin']);
    });

    it('roster-subscription makes an account+contact invite of the admin', async () => {
      const { sid } = await form();
      const r = await invitation(await submit(ADMIN, NODE.createAccount, sid, { 'roster-subscription': 'true' }));
      expect(r.uri).to.match(/^xmpp:boss@example\.org\?roster;preauth=[^;]+;ibr=y$/);
      expect(r.lookup.invite).to.deep.include({ kind: 'account-contact', inviter: ADMIN });
    });

    it('invalid values give the form again with an error note, values kept, session alive', async () => {
      const { sid } = await form();
      const cases: [Record<string, string>, RegExp][] = [
        [{ username: 'no/slash' }, /^"no\/slash" is not a valid username\.$/],
        [{ username: 'juliet', 'roster-subscription': '1' }, /cannot be bound to a username or give a role/],
        [{ role: 'admin', 'roster-subscription': '1' }, /cannot be bound to a username or give a role/],
        [{ role: 'root' }, /^"root" is not a role/],
        [{ 'roster-subscription': 'maybe' }, /must be yes or no/],
      ];
      for (const [values, message] of cases) {
        const again = await submit(ADMIN, NODE.createAccount, sid, values);
        expect(again.attrs, JSON.stringify(values)).to.include({ status: 'executing', sessionid: sid });
        const notes = notesOf(again);
        expect(notes).to.have.length(1);
        expect(notes[0]!.type).to.equal('error');
        expect(notes[0]!.text).to.match(message);
        expect(fieldsOf(formOf(again)).username!.values).to.deep.equal(values.username ? [values.username] : []);
      }
      expect((await invitation(await submit(ADMIN, NODE.createAccount, sid, { username: 'Juliet' }))).lookup.invite?.username).to.equal('juliet');
    });

    it('bad input of any shape never crashes: long, control characters, many values', async () => {
      const { sid } = await form();
      const weird = await submit(ADMIN, NODE.createAccount, sid, { username: ['a'.repeat(5000), 'b'], role: '\u0000\u202e', 'roster-subscription': ['1', '0'] });
      expect(weird.attrs.status).to.equal('executing');
      expect(fieldsOf(formOf(weird)).username!.values[0]).to.have.length(1023);
    });
  });

  describe('password reset invite', () => {
    it('asks a required jid-single accountjid; refuses what is not a local account; creates for a local one', async () => {
      const first = await start(ADMIN, NODE.reset);
      const sid = first.attrs.sessionid;
      expect(fieldsOf(formOf(first)).accountjid).to.deep.include({ type: 'jid-single', required: true });
      const cases: [Record<string, string>, RegExp][] = [
        [{}, /^Enter the account whose password is to be reset, as user@example\.org\.$/],
        [{ accountjid: 'bob@evil.example' }, /^"bob@evil\.example" is not an account on example\.org/],
        [{ accountjid: 'example.org' }, /is not an address/],
        [{ accountjid: 'bob@example.org/phone' }, /is not an address/],
        [{ accountjid: 'b"ob@example.org' }, /is not a valid username/],
      ];
      for (const [values, message] of cases) {
        const again = await submit(ADMIN, NODE.reset, sid, values);
        expect(again.attrs.status, JSON.stringify(values)).to.equal('executing');
        expect(notesOf(again)[0]).to.deep.include({ type: 'error' });
        expect(notesOf(again)[0]!.text).to.match(message);
      }
      const done = await invitation(await submit(ADMIN, NODE.reset, sid, { accountjid: 'Ann@Example.org' }));
      expect(done.uri).to.match(/^xmpp:ann@example\.org\?register;preauth=/);
      expect(done.lookup.invite).to.deep.include({ kind: 'reset', username: 'ann' });
      expect(done.fields.expire!.values[0]).to.equal('2026-11-22T12:00:00Z');
      // A bare username is an account of this server, as the bot's "invite reset ann" takes it.
      const again = await start(ADMIN, NODE.reset);
      const plain = await invitation(await submit(ADMIN, NODE.reset, again.attrs.sessionid, { accountjid: 'carol' }));
      expect(plain.lookup.invite).to.deep.include({ kind: 'reset', username: 'carol' });
    });
  });

  describe('list and revoke', () => {
    it('a user gets their own pending invites at once, as a table', async () => {
      const empty = await start(USER, NODE.list);
      expect(empty.attrs.status).to.equal('completed');
      expect(notesOf(empty)).to.deep.equal([{ type: 'info', text: 'You have no pending invites.' }]);
      await invitation(await start(USER, NODE.invite));
      await invitation(await start(OTHER, NODE.invite));
      const listed = await start(USER, NODE.list);
      expect(listed.attrs.status).to.equal('completed');
      const rows = rowsOf(formOf(listed));
      expect(rows).to.have.length(1);
      expect(rows[0]).to.deep.include({ kind: 'contact', 'created-by': USER, uses: '0/1', expire: '2026-11-28T12:00:00Z' });
      expect(formOf(listed)!.getChild('reported')!.getChildren('field').map((f) => f.attrs.var))
        .to.deep.equal(['id', 'kind', 'expire', 'uses', 'uses-left', 'username', 'roles', 'groups', 'note', 'created-by']);
    });

    it('an admin chooses between theirs and all', async () => {
      await invitation(await start(USER, NODE.invite));
      const first = await start(ADMIN, NODE.list);
      expect(first.attrs.status).to.equal('executing');
      expect(fieldsOf(formOf(first)).all).to.deep.include({ type: 'boolean', values: ['0'] });
      const mine = await submit(ADMIN, NODE.list, first.attrs.sessionid, { all: '0' });
      expect(notesOf(mine)[0]!.text).to.equal('You have no pending invites.');
      const again = await start(ADMIN, NODE.list);
      const all = await submit(ADMIN, NODE.list, again.attrs.sessionid, { all: '1' });
      expect(rowsOf(formOf(all)).map((r) => r['created-by'])).to.deep.equal([USER]);
    });

    it('a user revokes one of their own from a list-single; unknown ids give the form again', async () => {
      expect(notesOf(await start(USER, NODE.revoke))).to.deep.equal([{ type: 'info', text: 'You have no invites that can be revoked.' }]);
      const { token, lookup } = await invitation(await start(USER, NODE.invite));
      await invitation(await start(OTHER, NODE.invite));
      const first = await start(USER, NODE.revoke);
      const f = fieldsOf(formOf(first)).id!;
      expect(f).to.deep.include({ type: 'list-single', required: true, options: [lookup.invite!.id] });
      const wrong = await submit(USER, NODE.revoke, first.attrs.sessionid, { id: 'zzzz2222' });
      expect(wrong.attrs.status).to.equal('executing');
      expect(notesOf(wrong)).to.deep.equal([{ type: 'error', text: 'You have no invite with the id "zzzz2222".' }]);
      const none = await submit(USER, NODE.revoke, first.attrs.sessionid, {});
      expect(notesOf(none)[0]!.text).to.equal('Choose the invite to revoke.');
      const done = await submit(USER, NODE.revoke, first.attrs.sessionid, { id: lookup.invite!.id });
      expect(done.attrs.status).to.equal('completed');
      expect(notesOf(done)).to.deep.equal([{ type: 'info', text: `Invite ${lookup.invite!.id} is revoked: it can no longer be used.` }]);
      expect((await core.service.lookup(token)).state).to.equal('revoked');
    });

    it('an admin may revoke anyone\'s', async () => {
      const { token, lookup } = await invitation(await start(USER, NODE.invite));
      const first = await start(ADMIN, NODE.revoke);
      expect(fieldsOf(formOf(first)).id!.options).to.deep.equal([lookup.invite!.id]);
      expect((await submit(ADMIN, NODE.revoke, first.attrs.sessionid, { id: lookup.invite!.id })).attrs.status).to.equal('completed');
      expect((await core.service.lookup(token)).state).to.equal('revoked');
    });
  });
});

describe('attachAdhoc', () => {
  let core: Core;
  beforeEach(async () => { core = await makeCore(); });
  afterEach(() => core.cleanup());

  /** The routes attachAdhoc registers, called the way xmpp.js's iqCallee calls them. */
  function router() {
    const routes = new Map<string, IqHandler>();
    const r: IqRouter = {
      get: (ns, name, h) => routes.set(`get ${ns} ${name}`, h),
      set: (ns, name, h) => routes.set(`set ${ns} ${name}`, h),
    };
    const call = async (type: 'get' | 'set', to: string, child: Element) => {
      const stanza = xml('iq', { type, to, from: `${USER}/phone`, id: '1' }, child);
      const h = routes.get(`${type} ${child.attrs.xmlns} ${child.name}`)!;
      return h({ stanza }, async () => 'passed on');
    };
    return { r, call };
  }

  it('answers at its address only, and passes other addresses on', async () => {
    const { r, call } = router();
    attachAdhoc(r, new Adhoc(core.service), { address: 'Bot@Example.org/r', identity: { category: 'client', type: 'bot' } });
    const items = xml('query', { xmlns: 'http://jabber.org/protocol/disco#items', node: 'http://jabber.org/protocol/commands' });
    const answered = await call('get', 'bot@example.org/r', items) as Element;
    expect(answered.getChildren('item').map((i) => i.attrs.jid)).to.deep.equal(['bot@example.org/r', 'bot@example.org/r', 'bot@example.org/r', 'bot@example.org/r']);
    expect(await call('get', 'bot@example.org/other', items)).to.equal('passed on');
    expect(await call('get', 'bot@example.org', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }))).to.equal('passed on');
    const reply = await call('set', 'bot@example.org/r', command(NODE.invite)) as Element;
    expect(reply.attrs.status).to.equal('completed');
  });

  it('follows an address that changes (a function), and answers nothing while it is unknown', async () => {
    const { r, call } = router();
    let address: string | undefined;
    attachAdhoc(r, new Adhoc(core.service), { address: () => address, identity: { category: 'component', type: 'generic' }, features: ['urn:example'] });
    const info = xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' });
    expect(await call('get', 'invites.example.org', info)).to.equal('passed on');
    address = 'invites.example.org';
    const answered = await call('get', 'invites.example.org', info) as Element;
    expect(answered.getChildren('feature').map((f) => f.attrs.var)).to.include('urn:example');
    expect(await call('get', 'someone@invites.example.org', info)).to.equal('passed on');
  });
});

describe('ad-hoc commands: languages, text fallbacks and dead ends', () => {
  let core: Core;
  let adhoc: Adhoc;
  beforeEach(async () => {
    core = await makeCore();
    adhoc = new Adhoc(core.service, { now: () => core.clock.now });
  });
  afterEach(() => core.cleanup());

  const labels = (x: Element | undefined) => Object.fromEntries((x?.getChildren('field') ?? []).map((f) => [f.attrs.var, f.attrs.label]));
  const instructions = (cmd: Element) => formOf(cmd)?.getChildText('instructions');

  it('words forms, notes and errors in the request\'s language; vars, FORM_TYPE and option values stay', async () => {
    const de = await adhoc.execute(ADMIN, command(NODE.createAccount), 'de');
    const x = formOf(de)!;
    expect(x.getChildText('title')).to.equal('Neue Kontoeinladung erstellen');
    expect(instructions(de)).to.equal('Lass den Benutzernamen leer, damit die eingeladene Person selbst einen wählt.');
    expect(labels(x)).to.deep.equal({
      username: 'Benutzername', 'roster-subscription': 'Das neue Konto zu meinen Kontakten hinzufügen', role: 'Rolle',
      'expires-after': 'Gültig für', uses: 'Anzahl der Verwendungen', note: 'Notiz',
    });
    expect(fieldsOf(x).role!.options).to.deep.equal(['none', 'admin', 'member', 'registered', 'guest']);
    expect(x.getChild('field', undefined)!.parent).to.equal(x);
    const done = await adhoc.execute(ADMIN, command(NODE.createAccount, { sessionid: de.attrs.sessionid }, { username: 'juliet' }), 'de');
    const { fields } = invitationOf(done);
    expect(Object.keys(fields)).to.deep.equal(['FORM_TYPE', 'uri', 'expire']);
    expect(labels(formOf(done))).to.deep.include({ uri: 'Einladungs-URI', expire: 'Einladung gültig bis' });
    expect(notesOf(done)[0]!.text).to.match(/^Kontoeinladung [a-z0-9]{8}, gültig bis 28\. November 2026 um 12:00 UTC \(in 7 Tagen\)\. Gib sie nur der Person, die du einlädst\.$/);

    const fr = await adhoc.execute(USER, command(NODE.reset), 'fr');
    const e = fr.getChild('text', 'urn:ietf:params:xml:ns:xmpp-stanzas')!;
    expect(e.text()).to.equal('Seuls les administrateurs peuvent créer des invitations de compte et de réinitialisation du mot de passe.');
    expect(e.attrs['xml:lang']).to.equal('fr');
    expect(errorOf(await adhoc.execute(ADMIN, command(NODE.reset, { sessionid: 'x' }), 'es')).text)
      .to.equal('Esta sesión de la orden es desconocida o ha caducado; vuelve a empezar la orden.');
    const es = await adhoc.execute(USER, command(NODE.invite), 'es');
    expect(notesOf(es)[0]!.text).to.match(/^Invitación de contacto [a-z0-9]{8}, válida hasta el 28 de noviembre de 2026 a las 12:00 UTC \(dentro de 7 días\)\./);
    // No language named: DEFAULT_LANGUAGE.
    const spanish = new Adhoc(core.service, { now: () => core.clock.now, language: 'es' });
    expect(formOf(await spanish.execute(ADMIN, command(NODE.reset)))!.getChildText('title')).to.equal('Crear una invitación de restablecimiento de contraseña');
  });

  it('words the rate limit\'s refusal in the request\'s language', async () => {
    const a = new Adhoc(core.service, { limit: new SenderLimit({ points: 1, duration: 30 }) });
    await a.execute(USER, command(NODE.list), 'de');
    const refused = errorOf(await a.execute(USER, command(NODE.list), 'de'));
    expect(refused).to.include({ condition: 'resource-constraint' });
    expect(refused.text).to.match(/^Du schickst Befehle zu schnell; warte \d+ Sekunden und versuch es dann wieder\.$/);
  });

  it('lists the commands in disco by the language of the query', async () => {
    const items = await itemsFor(adhoc, USER, 'http://jabber.org/protocol/commands', 'bot@example.org/r', 'fr');
    expect(items.getChildren('item').map((i) => i.attrs.name)).to.deep.equal(['Créer une invitation de contact', 'Créer une invitation de contact avec options', 'Lister les invitations en attente', 'Révoquer une invitation']);
    expect(items.getChildren('item').map((i) => i.attrs.node)).to.deep.equal([NODE.invite, NODE.inviteOptions, NODE.list, NODE.revoke]);
  });

  it('gives the list as plain text in the result\'s instructions too, one line per invite, and keeps the note', async () => {
    await adhoc.execute(USER, command(NODE.invite));
    await adhoc.execute(USER, command(NODE.invite));
    const listed = await adhoc.execute(USER, command(NODE.list));
    const lines = instructions(listed)!.split('\n');
    expect(lines).to.have.length(2);
    const ids = rowsOf(formOf(listed)).map((r) => r.id);
    for (const [i, line] of lines.entries()) {
      expect(line).to.equal(`${ids[i]}  contact  expires 28 November 2026 at 12:00 UTC (in 7 days)  single use`);
    }
    expect(notesOf(listed)).to.deep.equal([{ type: 'info', text: '2 pending invites.' }]);
    const de = await adhoc.execute(USER, command(NODE.list), 'de');
    expect(instructions(de)!.split('\n')[0]).to.match(/^[a-z0-9]{8} {2}Kontakt {2}gültig bis 28\. November 2026 um 12:00 UTC \(in 7 Tagen\) {2}einmal verwendbar/);
    expect(notesOf(de)[0]!.text).to.equal('2 offene Einladungen.');
  });

  it('repeats the reason of a refused form as the first line of its instructions', async () => {
    const first = await adhoc.execute(ADMIN, command(NODE.createAccount));
    const again = await adhoc.execute(ADMIN, command(NODE.createAccount, { sessionid: first.attrs.sessionid }, { username: 'no/slash' }));
    expect(again.attrs.status).to.equal('executing');
    expect(instructions(again)).to.equal('"no/slash" is not a valid username.\nLeave the username empty to let the invited person choose one.');
    expect(formOf(again)!.getChildren('instructions')).to.have.length(1);
    expect(notesOf(again)).to.deep.equal([{ type: 'error', text: '"no/slash" is not a valid username.' }]);
    const reset = await adhoc.execute(ADMIN, command(NODE.reset));
    const wrong = await adhoc.execute(ADMIN, command(NODE.reset, { sessionid: reset.attrs.sessionid }, { accountjid: 'bob@evil.example' }), 'es');
    expect(instructions(wrong)!.split('\n')[0]).to.equal('«bob@evil.example» no es una cuenta de example.org; escribe una como usuario@example.org.');
    await adhoc.execute(USER, command(NODE.invite));
    const revoke = await adhoc.execute(USER, command(NODE.revoke));
    const unknown = await adhoc.execute(USER, command(NODE.revoke, { sessionid: revoke.attrs.sessionid }, { id: 'zzzz2222' }));
    expect(instructions(unknown)).to.equal('You have no invite with the id "zzzz2222".');
  });

  it('refuses a create-account form for a taken username, and a reset form for a missing account, as a refused form', async () => {
    core.service.server = { account: async (jid) => ({ exists: jid === 'alice@example.org', admin: false }) };
    const first = await adhoc.execute(ADMIN, command(NODE.createAccount));
    const taken = await adhoc.execute(ADMIN, command(NODE.createAccount, { sessionid: first.attrs.sessionid }, { username: 'alice' }));
    const sentence = 'The account alice@example.org already exists; choose another username, or use "Create password reset invite" for it.';
    expect(taken.attrs.status).to.equal('executing');
    expect(notesOf(taken)).to.deep.equal([{ type: 'error', text: sentence }]);
    expect(instructions(taken)!.split('\n')[0]).to.equal(sentence);
    expect(fieldsOf(formOf(taken)).username!.values).to.deep.equal(['alice']);
    const reset = await adhoc.execute(ADMIN, command(NODE.reset));
    const missing = await adhoc.execute(ADMIN, command(NODE.reset, { sessionid: reset.attrs.sessionid }, { accountjid: 'bob@example.org' }), 'de');
    expect(notesOf(missing)).to.deep.equal([{ type: 'error', text: 'Es gibt kein Konto bob@example.org, das zurückgesetzt werden könnte.' }]);
    expect(instructions(missing)!.split('\n')[0]).to.equal('Es gibt kein Konto bob@example.org, das zurückgesetzt werden könnte.');
    // The same session goes on once the value is right.
    invitationOf(await adhoc.execute(ADMIN, command(NODE.reset, { sessionid: reset.attrs.sessionid }, { accountjid: 'alice@example.org' })));
    expect((await core.service.listPending({ jid: ADMIN })).ok && (await core.service.listPending({ jid: ADMIN }) as { invites: unknown[] }).invites).to.have.length(1);
  });

  it('takes the language from the <command/>\'s xml:lang, else the IQ\'s', async () => {
    const routes = new Map<string, IqHandler>();
    const r: IqRouter = { get: (ns, name, h) => routes.set(`get ${ns} ${name}`, h), set: (ns, name, h) => routes.set(`set ${ns} ${name}`, h) };
    attachAdhoc(r, adhoc, { address: 'bot@example.org/r', identity: { category: 'client', type: 'bot' } });
    const call = (attrs: Record<string, string>, child: Element) =>
      routes.get(`set ${child.attrs.xmlns} ${child.name}`)!({ stanza: xml('iq', { type: 'set', to: 'bot@example.org/r', from: `${ADMIN}/pc`, id: '1', ...attrs }, child) }, async () => 'next') as Promise<Element>;
    const title = async (attrs: Record<string, string>, cmdAttrs: Record<string, string> = {}) =>
      formOf(await call(attrs, command(NODE.reset, cmdAttrs)))!.getChildText('title');
    expect(await title({ 'xml:lang': 'fr' })).to.equal('Créer une invitation de réinitialisation du mot de passe');
    expect(await title({ 'xml:lang': 'fr' }, { 'xml:lang': 'es-MX' })).to.equal('Crear una invitación de restablecimiento de contraseña');
    expect(await title({ 'xml:lang': 'de-AT' })).to.equal('Einladung zum Zurücksetzen des Passworts erstellen');
    expect(await title({ 'xml:lang': 'pt' })).to.equal('Create password reset invite');
    expect(await title({})).to.equal('Create password reset invite');
  });
});

describe('ad-hoc commands: per-invite options and groups', () => {
  let core: Core;
  let adhoc: Adhoc;
  let groups: GroupService;
  const run = (asker: string, el: Element, lang?: 'en' | 'de') => adhoc.execute(asker, el, lang);
  const start = (asker: string, node: string) => run(asker, command(node, { action: 'execute' }));
  const submit = (asker: string, node: string, sessionid: string, values: Record<string, string | string[]>) =>
    run(asker, command(node, { sessionid, action: 'complete' }, values));

  beforeEach(async () => {
    core = await makeCore({ allowUserInvites: true });
    groups = new GroupService(core.store, 'example.org', (j) => core.service.isAdmin(j), () => core.clock.now);
    core.service.groups = groups;
    adhoc = new Adhoc(core.service, { now: () => core.clock.now });
  });
  afterEach(() => core.cleanup());

  it('offers the group commands to admins only, where there are groups', async () => {
    const nodes = (await adhoc.available(ADMIN)).map((c) => c.node);
    expect(nodes).to.deep.equal([...ALL_NODES, NODE.groups, NODE.groupCreate, NODE.groupAdd, NODE.groupRemove]);
    expect((await adhoc.available(USER)).map((c) => c.node)).to.deep.equal([NODE.invite, NODE.inviteOptions, NODE.list, NODE.revoke]);
    expect(errorOf(await start(USER, NODE.groupCreate))).to.include({ condition: 'forbidden', text: 'Only administrators can manage groups or invite into them.' });
  });

  it('asks an account invite\'s lifetime (a menu, with never), uses, note and groups (a list of the groups there are)', async () => {
    await groups.create({ system: 'cli' }, 'Berlin meetup');
    await groups.create({ system: 'cli' }, 'friends');
    const first = await start(ADMIN, NODE.createAccount);
    const f = fieldsOf(formOf(first));
    expect(f['expires-after']).to.deep.include({ type: 'list-single', values: ['1w'], options: ['1h', '1d', '1w', '4w', 'never'] });
    expect(f.uses).to.deep.include({ type: 'text-single', values: ['1'] });
    expect(f.note).to.deep.include({ type: 'text-single', values: [] });
    expect(f.groups).to.deep.include({ type: 'list-multi', options: ['Berlin meetup', 'friends'] });
    const labels = Object.fromEntries(formOf(first)!.getChildren('field').find((x) => x.attrs.var === 'expires-after')!.getChildren('option').map((o) => [o.getChildText('value'), o.attrs.label]));
    expect(labels).to.deep.equal({ '1h': '1 hour', '1d': '1 day', '1w': '1 week', '4w': '4 weeks', never: 'Never expires' });

    const done = await submit(ADMIN, NODE.createAccount, first.attrs.sessionid, { 'expires-after': '2d', uses: '3', note: 'x y', groups: ['Berlin meetup', 'friends'] });
    const { uri } = invitationOf(done);
    const inv = (await core.service.lookup(tokenOf(uri))).invite!;
    expect(inv).to.deep.include({ maxUses: 3, note: 'x y', groups: ['Berlin meetup', 'friends'], expiresAt: '2026-11-23T12:00:00.000Z' });
    expect(notesOf(done)[0]!.text).to.match(/^Account invite [a-z0-9]{8}, valid until 23 November 2026 at 12:00 UTC \(in 2 days\)\./);

    const never = await start(ADMIN, NODE.createAccount);
    const forever = await submit(ADMIN, NODE.createAccount, never.attrs.sessionid, { 'expires-after': 'never' });
    expect(notesOf(forever)[0]!.text).to.match(/^Account invite [a-z0-9]{8}, which never expires\. Share it only/);
    expect(fieldsOf(formOf(forever)).expire!.values).to.deep.equal(['9999-12-31T23:59:59Z']);

    // The list: uses left, the note, the groups, and never in words.
    const listed = await submit(ADMIN, NODE.list, (await start(ADMIN, NODE.list)).attrs.sessionid, { all: '1' });
    const rows = rowsOf(formOf(listed));
    expect(rows.map((r) => [r.expire, r.uses, r['uses-left'], r.note, r.groups])).to.have.deep.members([
      ['2026-11-23T12:00:00Z', '0/3', '3', 'x y', 'Berlin meetup, friends'],
      ['never expires', '0/1', '1', '', ''],
    ]);
    const text = formOf(listed)!.getChildText('instructions')!;
    expect(text).to.include('expires 23 November 2026 at 12:00 UTC (in 2 days)  3 of 3 uses left  (groups Berlin meetup, friends, boss@example.org)  note "x y"');
    expect(text).to.include('  never expires  single use');
  });

  it('gives an account form back with the reason for a bad lifetime, uses or note, or a group there is not', async () => {
    const again = async (values: Record<string, string | string[]>) => {
      const first = await start(ADMIN, NODE.createAccount);
      const r = await submit(ADMIN, NODE.createAccount, first.attrs.sessionid, values);
      expect(r.attrs.status).to.equal('executing');
      return notesOf(r)[0]!.text;
    };
    expect(await again({ 'expires-after': 'soon' })).to.equal('A lifetime is a number and a unit, such as 1h, 2d or 4w (at most ten years), or "never".');
    expect(await again({ uses: 'lots' })).to.equal('The number of uses must be a whole number from 1 to 1000.');
    expect(await again({ uses: '2', 'roster-subscription': '1' })).to.equal('Only account invites can be used more than once.');
    expect(await again({ note: 'n'.repeat(201) })).to.equal('A note can be at most 200 characters long.');
    expect(await again({ groups: 'nosuch' })).to.equal('There is no group "nosuch"; "groups" lists them.');
  });

  it('asks a user\'s contact invite its lifetime (up to INVITE_EXPIRY, no never) and a note; the note never reaches the URI', async () => {
    const first = await start(USER, NODE.inviteOptions);
    expect(first.attrs.status).to.equal('executing');
    const f = fieldsOf(formOf(first));
    expect(f['expires-after']).to.deep.include({ type: 'list-single', values: ['1w'], options: ['1h', '1d', '1w'] });
    expect(Object.keys(f)).to.deep.equal(['expires-after', 'note']);
    const done = await submit(USER, NODE.inviteOptions, first.attrs.sessionid, { 'expires-after': '1d', note: 'for the Berlin meetup' });
    const { uri } = invitationOf(done);
    expect(uri).to.match(/^xmpp:ann@example\.org\?roster;preauth=[A-Za-z0-9_-]+;ibr=y$/).and.not.include('Berlin');
    const inv = (await core.service.lookup(tokenOf(uri))).invite!;
    expect(inv).to.deep.include({ kind: 'account-contact', note: 'for the Berlin meetup', expiresAt: '2026-11-22T12:00:00.000Z' });
    // Typed rather than chosen (a client that lets one type): longer is capped and said so; never is refused.
    const typed = await submit(USER, NODE.inviteOptions, (await start(USER, NODE.inviteOptions)).attrs.sessionid, { 'expires-after': '4w' });
    expect(notesOf(typed).map((n) => n.text)[1]).to.equal('Invites from user accounts are valid for at most 1 week, so this one is valid for 1 week.');
    const never = await submit(USER, NODE.inviteOptions, (await start(USER, NODE.inviteOptions)).attrs.sessionid, { 'expires-after': 'never' });
    expect(never.attrs.status).to.equal('executing');
    expect(notesOf(never)[0]!.text).to.equal('Only administrators can create invites that never expire.');
    // The plain contact invite stays one stage, as apps expect.
    expect((await start(USER, NODE.invite)).attrs.status).to.equal('completed');
  });

  it('creates groups, adds and removes members, and lists them', async () => {
    const c = await start(ADMIN, NODE.groupCreate);
    expect(Object.keys(fieldsOf(formOf(c)))).to.deep.equal(['name', 'room']);
    const bad = await submit(ADMIN, NODE.groupCreate, c.attrs.sessionid, { name: 'Berlin meetup', room: 'not a room' });
    expect(notesOf(bad)[0]!.text).to.equal('"not a room" is not a chat room\'s address (room@conference.example.org).');
    const made = await submit(ADMIN, NODE.groupCreate, bad.attrs.sessionid, { name: 'Berlin meetup', room: 'meetup@conference.example.org' });
    expect(notesOf(made)).to.deep.equal([{ type: 'info', text: 'Group "Berlin meetup" created, with the room meetup@conference.example.org.' }]);

    const a = await start(ADMIN, NODE.groupAdd);
    expect(fieldsOf(formOf(a)).group).to.deep.include({ type: 'list-single', options: ['Berlin meetup'], required: true });
    expect(fieldsOf(formOf(a)).jid).to.deep.include({ type: 'jid-single', required: true });
    const added = await submit(ADMIN, NODE.groupAdd, a.attrs.sessionid, { group: 'Berlin meetup', jid: 'alice' });
    expect(notesOf(added)[0]!.text).to.equal('alice@example.org is now in the group "Berlin meetup".');
    const twice = await submit(ADMIN, NODE.groupAdd, (await start(ADMIN, NODE.groupAdd)).attrs.sessionid, { group: 'Berlin meetup', jid: 'alice@example.org' });
    expect(twice.attrs.status).to.equal('executing');
    expect(notesOf(twice)[0]!.text).to.equal('alice@example.org is already in the group "Berlin meetup".');

    const listed = await start(ADMIN, NODE.groups);
    expect(listed.attrs.status).to.equal('completed');
    expect(rowsOf(formOf(listed))).to.deep.equal([{ name: 'Berlin meetup', room: 'meetup@conference.example.org', count: '1', members: 'alice@example.org' }]);
    expect(formOf(listed)!.getChildText('instructions')).to.equal('Berlin meetup  meetup@conference.example.org  1 member: alice@example.org');

    const removed = await submit(ADMIN, NODE.groupRemove, (await start(ADMIN, NODE.groupRemove)).attrs.sessionid, { group: 'Berlin meetup', jid: 'alice' });
    expect(notesOf(removed)[0]!.text).to.equal('alice@example.org is no longer in the group "Berlin meetup".');
    expect((await groups.get('berlin meetup'))?.members).to.deep.equal([]);
    const de = await run(ADMIN, command(NODE.groupAdd, { action: 'execute' }), 'de');
    expect(formOf(de)!.getChildText('title')).to.equal('Mitglied zu einer Gruppe hinzufügen');
  });
});

// The core of community invites: per-invite lifetime, note, groups and uses as the
// invite core decides them; groups and API keys over a real store.
import { expect } from 'chai';
import { ApiKeys, allows, parseScopes } from '../../src/api/keys.js';
import { GroupService } from '../../src/groups/service.js';
import type { JoinedEvent } from '../../src/groups/types.js';
import { lifetimeText, parseLifetime } from '../../src/invites/lifetime.js';
import { NEVER } from '../../src/invites/types.js';
import { type Core, makeCore } from '../helpers/core.js';

const ADMIN = { jid: 'boss@example.org' };
const USER = { jid: 'ann@example.org' };

describe('lifetimes', () => {
  it('reads 1h, 2d, 4w, 30m, 90s and never, and gives them back as typed', () => {
    expect(parseLifetime('1h')).to.equal(3600);
    expect(parseLifetime('2d')).to.equal(172_800);
    expect(parseLifetime(' 4W ')).to.equal(4 * 604_800);
    expect(parseLifetime('30m')).to.equal(1800);
    expect(parseLifetime('90s')).to.equal(90);
    expect(parseLifetime('Never')).to.equal('never');
    for (const t of ['2d', '4w', '1h', '90m', '45s', 'never']) expect(lifetimeText(parseLifetime(t)!)).to.equal(t);
  });

  it('refuses what is not one: 0, negative, no unit, an unknown unit, more than ten years', () => {
    for (const t of ['0d', '-1h', '5', 'h', '2x', '1.5d', '', '3651d', '2 days']) expect(parseLifetime(t), t).to.equal(undefined);
  });
});

describe('per-invite options in the core', () => {
  let core: Core;
  let groups: GroupService;
  beforeEach(async () => {
    core = await makeCore({ allowUserInvites: true });
    groups = new GroupService(core.store, 'example.org', (j) => core.service.isAdmin(j), () => core.clock.now);
    core.service.groups = groups;
  });
  afterEach(() => core.cleanup());

  it('an admin\'s lifetime is the invite\'s; never is NEVER', async () => {
    const r = await core.service.create(ADMIN, { kind: 'account', expiresAfter: 3600 });
    expect(r.ok && r.invite.expiresAt).to.equal(new Date(core.clock.now.getTime() + 3600_000).toISOString());
    const n = await core.service.create(ADMIN, { kind: 'account', expiresAfter: 'never' });
    expect(n.ok && n.invite.expiresAt).to.equal(NEVER);
    expect(n.ok && core.service.stateOf(n.invite)).to.equal('valid');
  });

  it('a reset keeps RESET_EXPIRY unless told otherwise', async () => {
    const r = await core.service.create(ADMIN, { kind: 'reset', username: 'ann' });
    expect(r.ok && r.invite.expiresAt).to.equal(new Date(core.clock.now.getTime() + 86_400_000).toISOString());
    const l = await core.service.create(ADMIN, { kind: 'reset', username: 'ann', expiresAfter: 7200 });
    expect(l.ok && r.ok && Date.parse(l.invite.expiresAt) < Date.parse(r.invite.expiresAt)).to.equal(true);
  });

  it('a user\'s lifetime is capped at INVITE_EXPIRY (and says so); never is refused', async () => {
    const r = await core.service.create(USER, { kind: 'account-contact', expiresAfter: 4 * 604_800 });
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.capped).to.equal(true);
    expect(r.invite.expiresAt).to.equal(new Date(core.clock.now.getTime() + 7 * 86_400_000).toISOString());
    const short = await core.service.create(USER, { kind: 'account-contact', expiresAfter: 3600 });
    expect(short.ok && short.capped).to.equal(undefined);
    const never = await core.service.create(USER, { kind: 'account-contact', expiresAfter: 'never' });
    expect(never.ok || never.code).to.equal('bad-lifetime');
    expect(!never.ok && never.message).to.match(/administrators/);
  });

  it('refuses a malformed lifetime from any front end', async () => {
    for (const bad of [0, -5, 1.5, Number.NaN, 11 * 365 * 86_400]) {
      const r = await core.service.create(ADMIN, { kind: 'account', expiresAfter: bad });
      expect(r.ok || r.code, String(bad)).to.equal('bad-lifetime');
    }
  });

  it('keeps a note on one line, refuses one over 200 characters, and never puts it in the URI', async () => {
    const r = await core.service.create(ADMIN, { kind: 'account', note: '  for the\nBerlin\u202e\u200b meetup ' });
    expect(r.ok && r.invite.note).to.equal('for the Berlin meetup');
    expect(r.ok && r.uri).not.to.include('Berlin');
    const long = await core.service.create(USER, { kind: 'account-contact', note: 'x'.repeat(201) });
    expect(long.ok || long.code).to.equal('bad-note');
    const none = await core.service.create(ADMIN, { kind: 'account', note: '   ' });
    expect(none.ok && 'note' in none.invite).to.equal(false);
  });

  it('uses: account invites only; bound ones once', async () => {
    const r = await core.service.create(ADMIN, { kind: 'account', maxUses: 5 });
    expect(r.ok && r.invite.maxUses).to.equal(5);
    const c = await core.service.create(ADMIN, { kind: 'account-contact', maxUses: 5 } as never);
    expect(c.ok || c.code).to.equal('bad-uses');
    const b = await core.service.create(ADMIN, { kind: 'account', username: 'dora', maxUses: 2 });
    expect(b.ok || b.code).to.equal('bad-uses');
  });

  it('groups: resolved by name whatever the case, kept in their own spelling; an unknown one, a user, a reset are refused', async () => {
    await groups.create(ADMIN, 'Berlin Team', 'team@conference.example.org');
    const r = await core.service.create(ADMIN, { kind: 'account', groups: ['berlin team', 'BERLIN TEAM'] });
    expect(r.ok && r.invite.groups).to.deep.equal(['Berlin Team']);
    const unknown = await core.service.create(ADMIN, { kind: 'account', groups: ['Nope'] });
    expect(unknown.ok || unknown.code).to.equal('bad-group');
    expect(!unknown.ok && unknown.message).to.include('"Nope"');
    const user = await core.service.create(USER, { kind: 'account-contact', groups: ['Berlin Team'] });
    expect(user.ok || user.code).to.equal('not-admin');
    const reset = await core.service.create(ADMIN, { kind: 'reset', username: 'ann', groups: ['Berlin Team'] });
    expect(reset.ok || reset.code).to.equal('bad-group');
  });

  it('the options survive a reopen of the store', async () => {
    await groups.create(ADMIN, 'Crew');
    const r = await core.service.create(ADMIN, { kind: 'account', maxUses: 3, expiresAfter: 'never', note: 'n', groups: ['Crew'] });
    if (!r.ok) throw new Error(r.message);
    core = await core.reopen();
    const again = await core.store.get(r.invite.id);
    expect(again).to.deep.include({ maxUses: 3, expiresAt: NEVER, note: 'n', groups: ['Crew'] });
  });

  it('listInvites: admins only; every state or one; by creator', async () => {
    const a = await core.service.create(ADMIN, { kind: 'account' });
    core.clock.now = new Date(core.clock.now.getTime() + 1000); // lists are in creation order
    const b = await core.service.create(ADMIN, { kind: 'account' });
    if (!a.ok || !b.ok) throw new Error('create');
    await core.service.revoke(ADMIN, b.invite.id);
    const all = await core.service.listInvites(ADMIN);
    expect(all.ok && all.invites.map((i) => i.id)).to.deep.equal([a.invite.id, b.invite.id]);
    const revoked = await core.service.listInvites(ADMIN, { state: 'revoked' });
    expect(revoked.ok && revoked.invites.map((i) => i.id)).to.deep.equal([b.invite.id]);
    const valid = await core.service.listInvites(ADMIN, { state: 'valid' });
    expect(valid.ok && valid.invites.map((i) => i.id)).to.deep.equal([a.invite.id]);
    const nobody = await core.service.listInvites(ADMIN, { createdBy: 'api:site' });
    expect(nobody.ok && nobody.invites).to.deep.equal([]);
    const user = await core.service.listInvites(USER);
    expect(user.ok || user.code).to.equal('not-admin');
  });

  it('importInvites adds invites as they are, and skips one whose token is there already', async () => {
    const r = await core.service.create(ADMIN, { kind: 'account' });
    if (!r.ok) throw new Error(r.message);
    const copy = { ...r.invite, id: 'aaaaaaaa' };
    const fresh = { ...r.invite, id: r.invite.id, tokenHash: 'h'.repeat(43) };
    expect(await core.service.importInvites([copy, fresh])).to.deep.equal({ imported: 1, skipped: 1, unknownGroups: [] });
    const found = await core.store.findByHash('h'.repeat(43));
    expect(found?.id).to.not.equal(r.invite.id); // a colliding id is replaced
  });

  it('importInvites never brings back an imported invite that was used and archived since', async () => {
    const r = await core.service.create(ADMIN, { kind: 'reset', username: 'ann' });
    if (!r.ok) throw new Error(r.message);
    const imported = { ...r.invite, id: 'bbbbbbbb', tokenHash: 'r'.repeat(43) };
    expect((await core.service.importInvites([imported])).imported).to.equal(1);
    await core.store.change('bbbbbbbb', (d) => { d.uses.push({ jid: 'ann@example.org', at: core.clock.now.toISOString() }); return { write: true, value: undefined }; });
    core.clock.now = new Date(core.clock.now.getTime() + 3 * 86_400_000);
    expect(await core.service.prune(86_400)).to.be.greaterThan(0);
    expect(await core.store.findByHash('r'.repeat(43))).to.equal(undefined);
    expect(await core.service.importInvites([imported])).to.deep.equal({ imported: 0, skipped: 1, unknownGroups: [] });
  });

  it('importInvites makes a note one line within MAX_NOTE and leaves out groups that do not exist here', async () => {
    await groups.create(ADMIN, 'Crew');
    const r = await core.service.create(ADMIN, { kind: 'account' });
    if (!r.ok) throw new Error(r.message);
    const odd = { ...r.invite, id: 'cccccccc', tokenHash: 'n'.repeat(43), note: `a\u202e\nb${'x'.repeat(300)}`, groups: ['crew', 'Gone\nfake'] };
    const out = await core.service.importInvites([odd]);
    expect(out.unknownGroups).to.deep.equal(['Gone fake']);
    const got = await core.store.findByHash('n'.repeat(43));
    expect(got?.note).to.match(/^a bx+$/);
    expect([...got!.note!].length).to.equal(200);
    expect(got?.groups).to.deep.equal(['Crew']);
  });
});

describe('groups', () => {
  let core: Core;
  let groups: GroupService;
  let joined: JoinedEvent[];
  beforeEach(async () => {
    core = await makeCore();
    groups = new GroupService(core.store, 'example.org', (j) => core.service.isAdmin(j), () => core.clock.now);
    joined = [];
    groups.on('joined', (e) => joined.push(e));
  });
  afterEach(() => core.cleanup());

  it('admins create, add, remove, delete; a join names the members before it', async () => {
    const c = await groups.create(ADMIN, 'Crew', 'xmpp:crew@conference.example.org?join');
    expect(c.ok && c.group).to.deep.include({ name: 'Crew', room: 'crew@conference.example.org', members: [] });
    expect((await groups.add(ADMIN, 'crew', 'ann')).ok).to.equal(true);
    expect((await groups.add(ADMIN, 'Crew', 'Bea@Example.org/phone')).ok).to.equal(true);
    expect(joined.map((e) => [e.jid, e.others])).to.deep.equal([['ann@example.org', []], ['bea@example.org', ['ann@example.org']]]);
    expect((await groups.get('CREW'))?.members).to.deep.equal(['ann@example.org', 'bea@example.org']);
    const again = await groups.add(ADMIN, 'Crew', 'ann@example.org');
    expect(again.ok || again.code).to.equal('member');
    expect((await groups.remove(ADMIN, 'Crew', 'ann')).ok).to.equal(true);
    const gone = await groups.remove(ADMIN, 'Crew', 'ann');
    expect(gone.ok || gone.code).to.equal('not-member');
    expect((await groups.delete(ADMIN, 'Crew')).ok).to.equal(true);
    expect(await groups.list()).to.deep.equal([]);
  });

  it('refuses non-admins, duplicate names (any case), bad names, rooms and members', async () => {
    const user = await groups.create(USER, 'Mine');
    expect(user.ok || user.code).to.equal('not-admin');
    await groups.create(ADMIN, 'Crew');
    const dup = await groups.create(ADMIN, 'CREW');
    expect(dup.ok || dup.code).to.equal('exists');
    for (const name of ['', '  ', 'a\u0000b', 'a\u202eb', 'x'.repeat(65)]) {
      const r = await groups.create(ADMIN, name);
      expect(r.ok || r.code, JSON.stringify(name)).to.equal('bad-name');
    }
    for (const bad of ['not a room', 'a b@conference.example.org', `x'"<>@conf`, 'room@conf/nick', '@conf', 'room@']) {
      const room = await groups.create(ADMIN, 'Other', bad);
      expect(room.ok || room.code, bad).to.equal('bad-room');
    }
    for (const m of ['eve@elsewhere.org', '@example.org', 'a b@example.org']) {
      const r = await groups.add(ADMIN, 'Crew', m);
      expect(r.ok || r.code, m).to.equal('bad-member');
    }
    const none = await groups.add(ADMIN, 'Nope', 'ann');
    expect(none.ok || none.code).to.equal('not-found');
    expect(joined).to.deep.equal([]);
  });

  it('an account the server says does not exist is not added by an admin', async () => {
    groups.server = { account: async (jid) => ({ exists: jid === 'ann@example.org', admin: false }) };
    await groups.create(ADMIN, 'Crew');
    expect((await groups.add(ADMIN, 'Crew', 'ann')).ok).to.equal(true);
    const ghost = await groups.add(ADMIN, 'Crew', 'ghost');
    expect(ghost.ok || ghost.code).to.equal('no-account');
  });

  it('20 concurrent joins: every one kept, each told the members before it', async () => {
    await groups.create(ADMIN, 'Crew');
    await Promise.all(Array.from({ length: 20 }, (_, i) => groups.add(ADMIN, 'Crew', `u${i}`)));
    const g = await groups.get('Crew');
    expect(g?.members).to.have.length(20);
    for (const e of joined) expect(e.others).to.deep.equal(g!.members.slice(0, g!.members.indexOf(e.jid)));
  });
});

describe('API keys', () => {
  let core: Core;
  let keys: ApiKeys;
  beforeEach(async () => {
    core = await makeCore();
    keys = new ApiKeys(core.store);
  });
  afterEach(() => core.cleanup());

  it('a key is shown once, stored hashed, verified, and revoked', async () => {
    const made = await keys.create('website', ['invites:write']);
    if (!made.ok) throw new Error(made.message);
    expect(made.secret).to.match(/^[a-z2-9]{8}\.[A-Za-z0-9_-]{24}$/);
    const stored = JSON.stringify(await core.store.getDoc('api-keys'));
    expect(stored).not.to.include(made.secret.split('.')[1]);
    expect((await keys.verify(made.secret))?.name).to.equal('website');
    expect(await keys.verify(`${made.secret.slice(0, -1)}x`)).to.equal(undefined);
    expect(await keys.verify('garbage')).to.equal(undefined);
    expect((await keys.revoke(made.key.id))?.revokedAt).to.be.a('string');
    expect(await keys.verify(made.secret)).to.equal(undefined);
    expect(await keys.revoke(made.key.id)).to.equal(undefined);
  });

  it('names are one word and unique among live keys; scopes are known ones, write implies read', async () => {
    expect((await keys.create('two words', [])).ok).to.equal(false);
    expect((await keys.create('site', ['invites:read'])).ok).to.equal(true);
    expect((await keys.create('site', ['invites:read'])).ok).to.equal(false);
    expect(parseScopes([])).to.deep.equal({ scopes: ['invites:write'] });
    expect(parseScopes(['Groups:Write', 'groups:write'])).to.deep.equal({ scopes: ['groups:write'] });
    expect('message' in parseScopes(['admin'])).to.equal(true);
    expect(allows(['invites:write'], 'invites:read')).to.equal(true);
    expect(allows(['invites:read'], 'invites:write')).to.equal(false);
    expect(allows(['groups:write'], 'invites:read')).to.equal(false);
  });
});

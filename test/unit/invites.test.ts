import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { expect } from 'chai';
import { formatExpiry } from '../../src/i18n/i18n.js';
import { describeCreated, describeListed, describeUse } from '../../src/invites/describe.js';
import { mayCreate, type PolicySettings } from '../../src/invites/policy.js';
import { hashToken, looksLikeToken, newId, newToken } from '../../src/invites/tokens.js';
import type { InviteKind } from '../../src/invites/types.js';
import { inviteUri } from '../../src/invites/uri.js';
import { LowdbStore } from '../../src/store/lowdb/lowdb-store.js';
import { type Core, makeCore } from '../helpers/core.js';

const T = 'AAAAAAAAAAAAAAAAAAAAAAAA';
const addDays = (d: Date, days: number) => new Date(d.getTime() + days * 86_400_000);

describe('invite URIs', () => {
  it('has the XEP-0401 / XEP-0379 forms for every kind', () => {
    expect(inviteUri({ kind: 'account' }, T, 'example.org')).to.equal(`xmpp:example.org?register;preauth=${T}`);
    expect(inviteUri({ kind: 'account', username: 'bob' }, T, 'example.org')).to.equal(`xmpp:bob@example.org?register;preauth=${T}`);
    expect(inviteUri({ kind: 'reset', username: 'bob' }, T, 'example.org')).to.equal(`xmpp:bob@example.org?register;preauth=${T}`);
    expect(inviteUri({ kind: 'contact', inviter: 'ann@example.org' }, T, 'example.org')).to.equal(`xmpp:ann@example.org?roster;preauth=${T}`);
    expect(inviteUri({ kind: 'account-contact', inviter: 'ann@example.org' }, T, 'example.org')).to.equal(`xmpp:ann@example.org?roster;preauth=${T};ibr=y`);
  });

  it('percent-encodes a localpart that needs it', () => {
    expect(inviteUri({ kind: 'account', username: 'a#b?c' }, T, 'example.org')).to.equal(`xmpp:a%23b%3Fc@example.org?register;preauth=${T}`);
  });
});

describe('tokens', () => {
  it('are 144-bit, URL-safe, and different every time', () => {
    const seen = new Set(Array.from({ length: 1000 }, newToken));
    expect(seen.size).to.equal(1000);
    for (const t of seen) {
      expect(t).to.match(/^[A-Za-z0-9_-]{24}$/);
      expect(Buffer.from(t, 'base64url').length).to.equal(18);
      expect(looksLikeToken(t)).to.equal(true);
    }
  });

  it('hash to a stable value that is not the token', () => {
    const t = newToken();
    expect(hashToken(t)).to.equal(hashToken(t)).and.not.include(t);
    expect(hashToken(t)).to.not.equal(hashToken(newToken()));
  });

  it('hash to SHA-256 in base64url, so stores written by earlier versions still match', () => {
    expect(hashToken('abc')).to.equal('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });

  it('and ids stay distinct across refills of the random pool', () => {
    // 3000 × (18 + 8) bytes is about 19 refills of the 4 KiB pool, many of them where a part would cross its end.
    const tokens = new Set<string>(), ids = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      tokens.add(newToken());
      ids.add(newId());
    }
    expect(tokens.size).to.equal(3000);
    // 40-bit ids: a repeat among 3000 has odds of about 4 in a million.
    expect(ids.size).to.equal(3000);
    for (const id of ids) expect(id).to.match(/^[a-km-np-z2-9]{8}$/);
  });
});

describe('expiry formatting', () => {
  it('gives absolute UTC and relative time', () => {
    const now = new Date('2026-11-21T12:00:00Z');
    const later = (s: number) => new Date(now.getTime() + s * 1000);
    expect(formatExpiry(later(7 * 86400), now, 'en')).to.equal('28 November 2026 at 12:00 UTC (in 7 days)');
    expect(formatExpiry(later(86400), now, 'en')).to.equal('22 November 2026 at 12:00 UTC (in 1 day)');
  });
});

describe('invite sentences (describe.ts) in each language', () => {
  let core: Core;
  beforeEach(async () => { core = await makeCore(); });
  afterEach(() => core.cleanup());
  const BOSS = { jid: 'boss@example.org' };

  it('words a created invite, its list line and its use in the reader\'s language, with one wording of expiry', async () => {
    const r = await core.service.create(BOSS, { kind: 'account', username: 'dora', roles: ['member', 'guest'] });
    if (!r.ok) throw new Error(r.message);
    const now = core.clock.now;
    expect(describeCreated(r, 'example.org', now, 'en')).to.match(/^Account invite for the username "dora", with the roles member, guest: it creates an account on example\.org\. Valid until 28 November 2026 at 12:00 UTC \(in 7 days\), single use\.\n/);
    expect(describeCreated(r, 'example.org', now, 'de')).to.match(/^Kontoeinladung für den Benutzernamen „dora“, mit den Rollen Mitglied, Gast: .* Gültig bis 28\. November 2026 um 12:00 UTC \(in 7 Tagen\), einmal verwendbar\.\n/);
    expect(describeCreated(r, 'example.org', now, 'fr')).to.match(/Valable jusqu’au 28 novembre 2026 à 12:00 UTC \(dans 7 jours\), usage unique\./);
    expect(describeCreated(r, 'example.org', now, 'es')).to.match(/Válida hasta el 28 de noviembre de 2026 a las 12:00 UTC \(dentro de 7 días\), de un solo uso\./);
    expect(describeListed(r.invite, now, 'en')).to.equal(`${r.invite.id}  account  expires 28 November 2026 at 12:00 UTC (in 7 days)  single use  (user dora, roles member,guest, boss@example.org)`);
    expect(describeListed(r.invite, now, 'es')).to.equal(`${r.invite.id}  cuenta  caduca el 28 de noviembre de 2026 a las 12:00 UTC (dentro de 7 días)  de un solo uso  (usuario dora, roles member,guest, boss@example.org)`);
    // A list of one's own does not name its creator on every line.
    expect(describeListed(r.invite, now, 'en', 'boss@example.org')).to.equal(`${r.invite.id}  account  expires 28 November 2026 at 12:00 UTC (in 7 days)  single use  (user dora, roles member,guest)`);
    const used = { invite: r.invite, usedBy: 'dora@example.org', purpose: 'register' as const, rolesApplied: true };
    expect(describeUse(used, true, 'en')).to.equal(`dora@example.org joined with your invite ${r.invite.id}.`);
    expect(describeUse(used, true, 'de')).to.equal(`dora@example.org ist mit deiner Einladung ${r.invite.id} beigetreten.`);
    expect(describeUse(used, true, 'fr')).to.equal(`dora@example.org a rejoint le serveur avec votre invitation ${r.invite.id}.`);
  });
});

describe('creation asks the server first (no dead ends)', () => {
  let core: Core;
  beforeEach(async () => { core = await makeCore(); });
  afterEach(() => core.cleanup());
  const BOSS = { jid: 'boss@example.org' };
  const accounts = (existing: string[] | undefined) => {
    core.service.server = { account: async (jid) => (existing ? { exists: existing.includes(jid), admin: false } : undefined) };
  };

  it('refuses a bound account invite for a taken username, and a reset of a missing account, with a sentence', async () => {
    accounts(['alice@example.org']);
    const taken = await core.service.create(BOSS, { kind: 'account', username: 'Alice' });
    expect(taken).to.deep.include({ ok: false, code: 'username-taken' });
    expect(!taken.ok && taken.message).to.equal('The account alice@example.org already exists; choose another username, or create a password reset invite with "invite reset alice".');
    const missing = await core.service.create(BOSS, { kind: 'reset', username: 'bob' });
    expect(missing).to.deep.include({ ok: false, code: 'no-account', message: 'There is no account bob@example.org to reset.' });
    expect((await core.service.create(BOSS, { kind: 'account', username: 'bob' })).ok).to.equal(true);
    expect((await core.service.create(BOSS, { kind: 'reset', username: 'alice' })).ok).to.equal(true);
    expect((await core.service.create(BOSS, { kind: 'account' })).ok).to.equal(true);
  });

  it('creates as before when the server cannot be asked, or fails to answer', async () => {
    accounts(undefined);
    expect((await core.service.create(BOSS, { kind: 'account', username: 'alice' })).ok).to.equal(true);
    core.service.server = { account: async () => { throw new Error('down'); } };
    expect((await core.service.create(BOSS, { kind: 'reset', username: 'nobody' })).ok).to.equal(true);
  });
});

describe('policy table (as Prosody)', () => {
  const p: PolicySettings = { domain: 'example.org', allowUserInvites: false, allowContactInvites: true, maxInvitesPerUser: 2 };
  const kinds: InviteKind[] = ['account', 'contact', 'account-contact', 'reset'];
  const table = (settings: PolicySettings, subject: { jid: string | null; admin: boolean; pending: number }) =>
    Object.fromEntries(kinds.map((k) => [k, mayCreate(k, subject, settings).ok]));

  it('admins may create every kind', () => {
    expect(table(p, { jid: 'boss@example.org', admin: true, pending: 50 })).to.deep.equal({ account: true, contact: true, 'account-contact': true, reset: true });
  });
  it('local users: contact only by default', () => {
    expect(table(p, { jid: 'ann@example.org', admin: false, pending: 0 })).to.deep.equal({ account: false, contact: true, 'account-contact': false, reset: false });
  });
  it('local users: account+contact when ALLOW_USER_INVITES', () => {
    expect(table({ ...p, allowUserInvites: true }, { jid: 'ann@example.org', admin: false, pending: 0 })).to.deep.equal({ account: false, contact: true, 'account-contact': true, reset: false });
  });
  it('local users: nothing when contact invites are off', () => {
    expect(table({ ...p, allowContactInvites: false, allowUserInvites: true }, { jid: 'ann@example.org', admin: false, pending: 0 })).to.deep.equal({ account: false, contact: false, 'account-contact': false, reset: false });
  });
  it('users of other domains: nothing, even if listed as admin elsewhere', () => {
    expect(table(p, { jid: 'eve@evil.example', admin: false, pending: 0 })).to.deep.equal({ account: false, contact: false, 'account-contact': false, reset: false });
    expect(table(p, { jid: 'eve@sub.example.org', admin: false, pending: 0 }).contact).to.equal(false);
  });
  it('the quota stops non-admins only', () => {
    const d = mayCreate('contact', { jid: 'ann@example.org', admin: false, pending: 2 }, p);
    expect(d.ok).to.equal(false);
    expect(d.ok || d.code).to.equal('quota');
  });
  it('a limit of 0 says users\' invites are off, never "you already have 0"', () => {
    for (const limits of [{ maxInvitesPerUser: 0 }, { maxInvitesPerDay: 0 }]) {
      const d = mayCreate('contact', { jid: 'ann@example.org', admin: false, pending: 0, createdToday: 0 }, { ...p, ...limits });
      expect(d.ok || d.code).to.equal('contact-invites-disabled');
      expect(d.ok || d.message).to.equal('Invites from user accounts are turned off on this server.');
    }
    expect(mayCreate('contact', { jid: 'boss@example.org', admin: true, pending: 0 }, { ...p, maxInvitesPerUser: 0 }).ok).to.equal(true);
  });
  it('the CLI may create account kinds but not contact kinds', () => {
    expect(table(p, { jid: null, admin: true, pending: 0 })).to.deep.equal({ account: true, contact: false, 'account-contact': false, reset: true });
  });
});

describe('InviteService', () => {
  let core: Core;
  beforeEach(async () => { core = await makeCore(); });
  afterEach(() => core.cleanup());

  const admin = { jid: 'boss@example.org' };
  const user = { jid: 'ann@example.org' };

  it('creates each kind with its expiry and URI', async () => {
    const acc = await core.service.create(admin, { kind: 'account' });
    if (!acc.ok) throw new Error(acc.message);
    expect(acc.uri).to.equal(`xmpp:example.org?register;preauth=${acc.token}`);
    expect(acc.invite.expiresAt).to.equal('2026-11-28T12:00:00.000Z');
    const reset = await core.service.create(admin, { kind: 'reset', username: 'Bob' });
    if (!reset.ok) throw new Error(reset.message);
    expect(reset.uri).to.equal(`xmpp:bob@example.org?register;preauth=${reset.token}`);
    expect(reset.invite.expiresAt).to.equal('2026-11-22T12:00:00.000Z');
    const c = await core.service.create(user, { kind: 'contact' });
    if (!c.ok) throw new Error(c.message);
    expect(c.uri).to.equal(`xmpp:ann@example.org?roster;preauth=${c.token}`);
  });

  it('"invite" gives account+contact only to those who may invite new users', async () => {
    expect(await core.service.defaultContactKind(user)).to.equal('contact');
    expect(await core.service.defaultContactKind(admin)).to.equal('account-contact');
  });

  it('never writes the token to the store file, only its hash', async () => {
    const created = await Promise.all([1, 2, 3].map(() => core.service.create(admin, { kind: 'account' })));
    await core.store.flush();
    const text = await readFile(core.file, 'utf8');
    for (const c of created) {
      if (!c.ok) throw new Error(c.message);
      expect(text).to.not.include(c.token);
      expect(text).to.include(hashToken(c.token));
    }
  });

  it('counts a token looked up to be used, and unusable, as refused; a usable one not', async () => {
    const seen: string[] = [];
    core.service.on('refused', (e) => seen.push(`${e.code} ${e.purpose}`));
    const r = await core.service.create(admin, { kind: 'account' });
    if (!r.ok) throw new Error(r.message);
    expect((await core.service.lookupToUse(r.token, 'register')).state).to.equal('valid');
    expect((await core.service.lookupToUse(newToken(), 'register')).state).to.equal('unknown');
    await core.service.revoke(admin, r.invite.id);
    await core.service.lookupToUse(r.token, 'register');
    expect(seen).to.deep.equal(['unknown register', 'revoked register']);
  });

  it('tells valid, unknown, expired, used and revoked apart', async () => {
    const mk = async () => { const r = await core.service.create(admin, { kind: 'account' }); if (!r.ok) throw new Error(); return r; };
    const [a, b, c] = [await mk(), await mk(), await mk()];
    expect((await core.service.lookup(a.token)).state).to.equal('valid');
    expect((await core.service.lookup(newToken())).state).to.equal('unknown');
    expect((await core.service.lookup('<script>')).state).to.equal('unknown');
    const r = await core.service.reserve(b.token, { purpose: 'register', username: 'someone' });
    if (!r.ok) throw new Error(r.message);
    await core.service.commit(r.reservation, 'new@example.org');
    expect((await core.service.lookup(b.token)).state).to.equal('used');
    await core.service.revoke(admin, c.invite.id);
    expect((await core.service.lookup(c.token)).state).to.equal('revoked');
    core.clock.now = addDays(core.clock.now, 8);
    expect((await core.service.lookup(a.token)).state).to.equal('expired');
  });

  it('reserves a single-use token for exactly one of many concurrent callers', async () => {
    const c = await core.service.create(admin, { kind: 'account' });
    if (!c.ok) throw new Error();
    const attempts = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
      await new Promise((r) => setImmediate(r));
      const r = await core.service.reserve(c.token, { purpose: 'register', username: `user${i}` });
      if (!r.ok) return false;
      await new Promise((r) => setTimeout(r, 5)); // the server creates the account meanwhile
      const done = await core.service.commit(r.reservation, `user${i}@example.org`);
      return done.ok;
    }));
    expect(attempts.filter(Boolean)).to.have.length(1);
    expect((await core.service.lookup(c.token)).state).to.equal('used');
  });

  it('gives a released use back, and refuses while one is in flight', async () => {
    const c = await core.service.create(admin, { kind: 'account' });
    if (!c.ok) throw new Error();
    const first = await core.service.reserve(c.token, { purpose: 'register', username: 'someone' });
    if (!first.ok) throw new Error();
    expect((await core.service.reserve(c.token, { purpose: 'register', username: 'someone' })).ok).to.equal(false);
    expect(await core.service.release(first.reservation)).to.equal(true);
    expect(await core.service.release(first.reservation)).to.equal(false);
    const second = await core.service.reserve(c.token, { purpose: 'register', username: 'someone' });
    expect(second.ok).to.equal(true);
    const stale = await core.service.commit(first.reservation, 'x@example.org');
    expect(stale.ok).to.equal(false);
  });

  it('counts uses of a multi-use invite and records who and when', async () => {
    const c = await core.service.create(admin, { kind: 'account', maxUses: 3 });
    if (!c.ok) throw new Error();
    const results = await Promise.all(Array.from({ length: 10 }, async (_, i) => {
      const r = await core.service.reserve(c.token, { purpose: 'register', username: 'someone' });
      if (!r.ok) return false;
      await new Promise((r) => setTimeout(r, 5 * i));
      return (await core.service.commit(r.reservation, `u${i}@example.org`)).ok;
    }));
    expect(results.filter(Boolean)).to.have.length(3);
    const uses = (await core.store.get(c.invite.id))!.uses;
    expect(uses.map((u) => u.jid)).to.deep.equal(['u0@example.org', 'u1@example.org', 'u2@example.org']);
    expect(uses[0]!.at).to.equal('2026-11-21T12:00:00.000Z');
  });

  it('enforces a bound username and the purpose of the token', async () => {
    const bound = await core.service.create(admin, { kind: 'account', username: 'bob' });
    const contact = await core.service.create(user, { kind: 'contact' });
    if (!bound.ok || !contact.ok) throw new Error();
    const wrong = await core.service.reserve(bound.token, { purpose: 'register', username: 'mallory' });
    expect(wrong.ok || wrong.code).to.equal('username-mismatch');
    // What the server sends is already nodeprepped ("BOB" arrives as "bob"): compared exactly.
    expect((await core.service.reserve(bound.token, { purpose: 'register', username: 'BOB' })).ok).to.equal(false);
    expect((await core.service.reserve(bound.token, { purpose: 'register', username: 'bob' })).ok).to.equal(true);
    const reg = await core.service.reserve(contact.token, { purpose: 'register', username: 'x' });
    expect(reg.ok || reg.code).to.equal('wrong-purpose');
    expect((await core.service.reserve(contact.token, { purpose: 'roster', user: user.jid, contact: 'cat@example.net' })).ok).to.equal(true);
  });

  it('never lets a reset create an account, nor an account invite take one over', async () => {
    const reset = await core.service.create(admin, { kind: 'reset', username: 'ann' });
    const account = await core.service.create(admin, { kind: 'account' });
    if (!reset.ok || !account.ok) throw new Error();
    const noAccount = await core.service.reserve(reset.token, { purpose: 'register', username: 'ann', accountExists: false });
    expect(noAccount.ok || noAccount.code).to.equal('no-account');
    const taken = await core.service.reserve(account.token, { purpose: 'register', username: 'ann', accountExists: true });
    expect(taken.ok || taken.code).to.equal('username-taken');
    const bad = await core.service.reserve(account.token, { purpose: 'register', username: 'a b' });
    expect(bad.ok || bad.code).to.equal('bad-username');
    expect((await core.service.reserve(reset.token, { purpose: 'register', username: 'ann', accountExists: true })).ok).to.equal(true);
  });

  it('accepts a contact token only for a subscription to its inviter', async () => {
    const contact = await core.service.create(user, { kind: 'contact' });
    if (!contact.ok) throw new Error();
    const other = await core.service.reserve(contact.token, { purpose: 'roster', user: 'boss@example.org', contact: 'cat@example.net' });
    expect(other.ok || other.code).to.equal('not-yours');
    expect((await core.service.reserve(contact.token, { purpose: 'roster', user: 'ANN@example.org', contact: 'cat@example.net' })).ok).to.equal(true);
  });

  it('announces each committed use, once', async () => {
    const c = await core.service.create(admin, { kind: 'account' });
    if (!c.ok) throw new Error();
    const seen: string[] = [];
    core.service.on('used', (e) => seen.push(`${e.invite.id} ${e.usedBy}`));
    const r = await core.service.reserve(c.token, { purpose: 'register', username: 'neo' });
    if (!r.ok) throw new Error();
    await core.service.commit(r.reservation, 'neo@example.org');
    await core.service.commit(r.reservation, 'neo@example.org');
    expect(seen).to.deep.equal([`${c.invite.id} neo@example.org`]);
  });

  it('grants the roles of an admin invite on commit, and they survive a restart', async () => {
    const c = await core.service.create(admin, { kind: 'account', roles: ['admin'] });
    if (!c.ok) throw new Error();
    const r = await core.service.reserve(c.token, { purpose: 'register', username: 'newboss' });
    if (!r.ok) throw new Error();
    expect(core.service.isAdmin('newboss@example.org')).to.equal(false);
    await core.service.commit(r.reservation, 'newboss@example.org');
    expect(core.service.isAdmin('newboss@example.org')).to.equal(true);
    const again = await core.reopen();
    expect(again.service.isAdmin('newboss@example.org')).to.equal(true);
    expect((await again.service.lookup(c.token)).state).to.equal('used');
    core = again;
  });

  it('refuses bad usernames and use counts with a sentence', async () => {
    for (const username of ['', 'a b', 'x@y', 'a/b', '\u0000', 'x'.repeat(65)]) {
      const r = await core.service.create(admin, { kind: 'account', username });
      expect(r.ok, username).to.equal(false);
      expect(r.ok || r.message).to.match(/not a valid username/);
    }
    for (const maxUses of [0, -1, 1.5, 1001, Number.NaN]) {
      const r = await core.service.create(admin, { kind: 'account', maxUses });
      expect(r.ok || r.code).to.equal('bad-uses');
    }
  });

  it('without the server to ask, keeps a bound username as typed but for ASCII case, so it names the account the server would', async () => {
    const r = await core.service.create(admin, { kind: 'account', username: 'Bob' });
    if (!r.ok) throw new Error(r.message);
    expect(r.invite.username).to.equal('bob');
    expect((await core.service.reserve(r.token, { purpose: 'register', username: 'bob' })).ok).to.equal(true);
    // Our wider folding made these "alice" and "strasse"; the server (through XEP-0133) folds
    // what we keep exactly as it folds what was typed, and a registration must match it exactly.
    for (const [typed, kept] of [['Al\u0131ce', 'al\u0131ce'], ['Straße', 'straße'], ['\u212Aate', '\u212Aate'], ['\uff21lice', '\uff21lice']]) {
      const reset = await core.service.create(admin, { kind: 'reset', username: typed! });
      expect(reset.ok && reset.invite.username, typed).to.equal(kept);
      if (!reset.ok) continue;
      for (const other of ['alice', 'strasse', 'kate']) {
        const held = await core.service.reserve(reset.token, { purpose: 'register', username: other, accountExists: true });
        expect(held.ok || held.code, `${typed} → ${other}`).to.equal('username-mismatch');
      }
    }
  });

  it('compares a registration with a bound username exactly: no confusable maps onto it', async () => {
    // Each of these is another account to Prosody (nodeprep keeps them apart), though a wider
    // folding (toUpperCase, NFKC) maps the first three onto "alice"-like names.
    const reset = await core.service.create(admin, { kind: 'reset', username: 'alice' });
    const bound = await core.service.create(admin, { kind: 'account', username: 'sam' });
    if (!reset.ok || !bound.ok) throw new Error();
    for (const name of ['al\u0131ce', 'al\u0130ce', 'alic\u0065\u0301', 'alice\u200b', '\uff41lice', 'Alice']) {
      const r = await core.service.reserve(reset.token, { purpose: 'register', username: name, accountExists: true });
      expect(r.ok || r.code, name).to.be.oneOf(['username-mismatch', 'bad-username']);
    }
    for (const name of ['\u017fam', 'SAM', '\uff53am']) {
      const r = await core.service.reserve(bound.token, { purpose: 'register', username: name, accountExists: false });
      expect(r.ok || r.code, name).to.be.oneOf(['username-mismatch', 'bad-username']);
    }
    expect((await core.service.reserve(reset.token, { purpose: 'register', username: 'alice', accountExists: true })).ok).to.equal(true);
  });

  it('stores a bound username as the server writes it when the server can be asked', async () => {
    const asked: string[] = [];
    core.service.server = {
      account: async () => undefined,
      nodeprep: async (u) => { asked.push(u); return u === 'bad\u0000' ? null : u === '\u212Aate' ? 'kate' : u.toLowerCase(); },
    };
    const k = await core.service.create(admin, { kind: 'reset', username: '\u212Aate' });
    expect(k.ok && k.invite.username).to.equal('kate');
    const refused = await core.service.create(admin, { kind: 'account', username: 'bad\u0000' });
    expect(refused.ok || refused.code).to.equal('bad-username');
    // Unreachable server: kept as typed but for ASCII case, never folded onto another name.
    core.service.server = { account: async () => undefined, nodeprep: async () => undefined };
    const fallback = await core.service.create(admin, { kind: 'reset', username: 'al\u0131ce' });
    expect(fallback.ok && fallback.invite.username).to.equal('al\u0131ce');
    expect(asked).to.deep.equal(['\u212Aate']);
  });

  it('recorded late: a commit for a lost reservation still spends the token', async () => {
    const c = await core.service.create(admin, { kind: 'account' });
    if (!c.ok) throw new Error();
    const r = await core.service.reserve(c.token, { purpose: 'register', username: 'slow' });
    if (!r.ok) throw new Error();
    core.service.close(); // e.g. a restart between reservation and commit
    expect((await core.service.commit(r.reservation, 'slow@example.org')).ok).to.equal(false);
    expect((await core.service.commit(r.reservation, 'slow@example.org', c.token)).ok).to.equal(true);
    expect((await core.service.lookup(c.token)).state).to.equal('used');
  });

  it('keeps a hold across a restart and settles it by whether the account exists', async () => {
    const made = await core.service.create(admin, { kind: 'account', roles: ['admin'] });
    const never = await core.service.create(admin, { kind: 'account' });
    const unsure = await core.service.create(admin, { kind: 'account' });
    if (!made.ok || !never.ok || !unsure.ok) throw new Error();
    for (const [c, name] of [[made, 'made'], [never, 'never'], [unsure, 'unsure']] as const) {
      const r = await core.service.reserve(c.token, { purpose: 'register', username: name });
      if (!r.ok) throw new Error(r.message);
    }
    const again = await core.reopen(); // the commit never came: a crash, a lost message
    core = again;
    expect((await again.service.lookup(made.token)).state, 'not used yet').to.equal('valid');
    const blocked = await again.service.reserve(made.token, { purpose: 'register', username: 'other' });
    expect(blocked.ok || blocked.code, 'but held').to.equal('in-use');
    const used: string[] = [];
    again.service.on('used', (e) => used.push(e.usedBy));
    const known: Record<string, boolean> = { 'made@example.org': true, 'never@example.org': false };
    again.service.server = { account: async (jid) => (jid in known ? { exists: known[jid]!, admin: false } : undefined) };
    expect(await again.service.settlePending()).to.equal(3);
    expect((await again.service.lookup(made.token)).state).to.equal('used');
    expect(again.service.isAdmin('made@example.org')).to.equal(true);
    expect(used).to.deep.equal(['made@example.org']);
    expect((await again.service.reserve(never.token, { purpose: 'register', username: 'second' })).ok, 'given back').to.equal(true);
    const still = await again.service.reserve(unsure.token, { purpose: 'register', username: 'second' });
    expect(still.ok || still.code, 'cannot tell: stays held').to.equal('in-use');
  });

  it('tells a second registrant the invite is in use right now, not used up', async () => {
    const c = await core.service.create(admin, { kind: 'account' });
    if (!c.ok) throw new Error();
    expect((await core.service.reserve(c.token, { purpose: 'register', username: 'one' })).ok).to.equal(true);
    const second = await core.service.reserve(c.token, { purpose: 'register', username: 'two' });
    expect(second.ok || second.code).to.equal('in-use');
  });

  it('holds non-admins to the quota of pending invites; used or revoked ones free a place', async () => {
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await core.service.create(user, { kind: 'contact' }));
    const over = await core.service.create(user, { kind: 'contact' });
    expect(over.ok || over.code).to.equal('quota');
    const first = made[0]!;
    if (!first.ok) throw new Error();
    await core.service.revoke(user, first.invite.id);
    expect((await core.service.create(user, { kind: 'contact' })).ok).to.equal(true);
    for (let i = 0; i < 5; i++) expect((await core.service.create(admin, { kind: 'account' })).ok).to.equal(true);
  });

  it('holds non-admins to MAX_INVITES_PER_DAY creations in 24 hours, revoked and used ones included', async () => {
    const limited = await makeCore({ maxInvitesPerDay: 5 });
    try {
      const ann = { jid: 'ann@example.org' };
      for (let i = 0; i < 5; i++) {
        const c = await limited.service.create(ann, { kind: 'contact' });
        if (!c.ok) throw new Error(c.message);
        await limited.service.revoke(ann, c.invite.id);
      }
      const over = await limited.service.create(ann, { kind: 'contact' });
      expect(over.ok || over.message).to.equal('You have created 5 invites in the last 24 hours, the most allowed; try again tomorrow.');
      expect(await limited.store.createdBy(ann.jid)).to.have.length(5);
      limited.clock.now = addDays(limited.clock.now, 1);
      expect((await limited.service.create(ann, { kind: 'contact' })).ok, 'a day later').to.equal(true);
      for (let i = 0; i < 8; i++) expect((await limited.service.create(admin, { kind: 'account' })).ok, 'admins are not held to it').to.equal(true);
    } finally {
      await limited.cleanup();
    }
  });

  it('deletes archive files of months that ended more than ARCHIVE_DAYS ago, and the old single archive file', async () => {
    const dir = core.dir;
    const month = (m: string) => LowdbStore.archivePath(core.file, new Date(`${m}-15T00:00:00Z`));
    for (const m of ['2026-01', '2026-08', '2026-09', '2026-11']) await writeFile(month(m), '{}\n');
    const legacy = core.file.replace(/\.json$/, '.archive.jsonl');
    await writeFile(legacy, '{}\n');
    const old = new Date('2026-03-01T00:00:00Z');
    await utimes(legacy, old, old);
    const gone = await core.store.pruneArchives(90, new Date('2026-12-01T00:00:00Z'));
    expect(gone.sort()).to.deep.equal(['invites.archive-2026-01.jsonl', 'invites.archive-2026-08.jsonl', 'invites.archive.jsonl']);
    expect((await readdir(dir)).filter((f) => f.includes('archive')).sort()).to.deep.equal(['invites.archive-2026-09.jsonl', 'invites.archive-2026-11.jsonl']);
  });

  it('lets owners and admins revoke, and tells others nothing', async () => {
    const c = await core.service.create(user, { kind: 'contact' });
    if (!c.ok) throw new Error();
    const other = await core.service.revoke({ jid: 'zed@example.org' }, c.invite.id);
    expect(other.ok || other.message).to.equal(`You have no invite with the id "${c.invite.id}".`);
    expect((await core.service.revoke(user, c.invite.id.toUpperCase())).ok).to.equal(true);
    const twice = await core.service.revoke(admin, c.invite.id);
    expect(twice.ok || twice.message).to.match(/already revoked/);
  });

  it('lists own pending invites, and all of them for admins only', async () => {
    await core.service.create(user, { kind: 'contact' });
    await core.service.create(admin, { kind: 'account' });
    const mine = await core.service.listPending(user);
    expect(mine.ok && mine.invites.map((i) => i.createdBy)).to.deep.equal(['ann@example.org']);
    expect((await core.service.listPending(user, { all: true })).ok).to.equal(false);
    const all = await core.service.listPending(admin, { all: true });
    expect(all.ok && all.invites).to.have.length(2);
  });

  it('archives invites that ended before the grace period, and keeps the rest', async () => {
    const used = await core.service.create(admin, { kind: 'account' });
    const live = await core.service.create(admin, { kind: 'account', maxUses: 2 });
    const expiring = await core.service.create(admin, { kind: 'reset', username: 'x' });
    if (!used.ok || !live.ok || !expiring.ok) throw new Error();
    const r = await core.service.reserve(used.token, { purpose: 'register', username: 'someone' });
    if (!r.ok) throw new Error();
    await core.service.commit(r.reservation, 'a@example.org');
    expect(await core.service.prune(86400)).to.equal(0);
    core.clock.now = addDays(core.clock.now, 3);
    expect(await core.service.prune(86400)).to.equal(2);
    expect((await core.service.lookup(live.token)).state).to.equal('valid');
    expect((await core.service.lookup(used.token)).state).to.equal('unknown');
    const archive = (await readFile(LowdbStore.archivePath(core.file, new Date()), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(archive.map((i: { id: string }) => i.id).sort()).to.deep.equal([used.invite.id, expiring.invite.id].sort());
    const again = await core.reopen();
    expect(again.store.all().map((i) => i.id)).to.deep.equal([live.invite.id]);
    core = again;
  });
});

// The InviteStore contract (src/store/store.ts), as one suite every store runs:
// test/unit/store-contract-lowdb.test.ts and test/integration/store-contract-postgres.test.ts.
// Each test gets a fresh, empty store from `open`; `reopen` closes the store it
// last gave and opens the same data again (durability); `cleanup` closes and removes it.
import { expect } from 'chai';
import { hashToken, newId, newToken } from '../../src/invites/tokens.js';
import type { Invite } from '../../src/invites/types.js';
import { type InviteStore, cursorOf, isOpen } from '../../src/store/store.js';

export interface OpenedStore {
  store: InviteStore;
  reopen(): Promise<InviteStore>;
  cleanup(): Promise<void>;
}

const BASE = Date.parse('2026-11-21T12:00:00.000Z');
const NOW = new Date(BASE + 3600_000);
const HOUR = 3600_000;

/** A fresh single-use account invite made `n` ms after BASE (ids random, as the core makes them). */
export function makeInvite(n: number, over: Partial<Invite> = {}): Invite {
  return {
    id: newId(),
    tokenHash: hashToken(newToken()),
    kind: 'account',
    createdBy: 'admin@example.org',
    roles: [],
    maxUses: 1,
    uses: [],
    createdAt: new Date(BASE + n).toISOString(),
    expiresAt: new Date(BASE + n + 7 * 24 * HOUR).toISOString(),
    ...over,
  };
}

/** "Take the last use": succeeds only while a use is left, pending ones counted. */
function takeUse(jid: string) {
  return (d: Invite) => {
    if (d.uses.length >= d.maxUses) return { write: false, value: false };
    d.uses.push({ jid, at: NOW.toISOString() });
    return { write: true, value: true };
  };
}

const ids = (list: readonly Invite[]) => list.map((i) => i.id);
const byListOrder = (a: Invite, b: Invite) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function storeContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`InviteStore contract: ${name}`, function () {
    this.timeout(60_000);
    let opened: OpenedStore;
    let store: InviteStore;

    beforeEach(async () => {
      opened = await open();
      store = opened.store;
    });
    afterEach(async () => {
      await opened.cleanup();
    });

    const reopen = async () => {
      store = await opened.reopen();
      return store;
    };

    async function addAll(list: Invite[]): Promise<Invite[]> {
      for (const inv of list) await store.add(inv);
      return list;
    }

    describe('add, get, findByHash', () => {
      it('finds an added invite by id and by token hash, as it was given', async () => {
        const inv = makeInvite(1, { kind: 'account-contact', inviter: 'ann@example.org', createdBy: 'ann@example.org', roles: ['member'], maxUses: 3 });
        await store.add(inv);
        expect(await store.get(inv.id)).to.deep.equal(inv);
        expect(await store.findByHash(inv.tokenHash)).to.deep.equal(inv);
      });

      it('knows nothing of an unknown id or hash', async () => {
        await store.add(makeInvite(1));
        expect(await store.get('nosuchid')).to.equal(undefined);
        expect(await store.findByHash(hashToken(newToken()))).to.equal(undefined);
      });

      it('refuses a second invite with the same id and keeps the first as it was', async () => {
        const first = makeInvite(1);
        await store.add(first);
        const again = { ...makeInvite(2), id: first.id };
        let failed = false;
        await store.add(again).catch(() => { failed = true; });
        expect(failed, 'the duplicate add rejects').to.equal(true);
        expect(await store.get(first.id)).to.deep.equal(first);
        expect(await store.findByHash(again.tokenHash)).to.equal(undefined);
        expect((await store.stats()).invites).to.equal(1);
      });
    });

    describe('change', () => {
      it('writes the draft and resolves with it and the value', async () => {
        const [target] = await addAll([makeInvite(5, { maxUses: 2 })]);
        const r = await store.change(target!.id, (d) => {
          d.uses.push({ jid: 'bob@example.org', at: NOW.toISOString(), pending: 'register', ref: 'r1' });
          return { write: true, value: 'held' };
        });
        expect(r?.value).to.equal('held');
        expect(r?.invite.uses).to.deep.equal([{ jid: 'bob@example.org', at: NOW.toISOString(), pending: 'register', ref: 'r1' }]);
        expect(await store.get(target!.id)).to.deep.equal(r!.invite);
        expect(await store.findByHash(target!.tokenHash)).to.deep.equal(r!.invite);
      });

      it('with write: false, stores nothing (changes to the draft are dropped) and resolves with the invite as it is', async () => {
        const [inv] = await addAll([makeInvite(1)]);
        const r = await store.change(inv!.id, (d) => {
          d.revokedAt = NOW.toISOString();
          return { write: false, value: 42 };
        });
        expect(r?.value).to.equal(42);
        expect(r?.invite).to.deep.equal(inv);
        expect(await store.get(inv!.id)).to.deep.equal(inv);
      });

      it('resolves undefined for an unknown invite, without calling fn', async () => {
        let called = false;
        expect(await store.change('nosuchid', () => { called = true; return { write: true, value: 1 }; })).to.equal(undefined);
        expect(called).to.equal(false);
      });

      it('a change whose fn throws rejects and changes nothing; the next change runs', async () => {
        const [inv] = await addAll([makeInvite(1)]);
        const failed = store.change(inv!.id, (d) => {
          d.revokedAt = NOW.toISOString();
          throw new Error('refused by fn');
        });
        const next = store.change(inv!.id, (d) => ({ write: false, value: d.revokedAt }));
        let message = '';
        await failed.catch((e: Error) => { message = e.message; });
        expect(message).to.equal('refused by fn');
        expect((await next)?.value).to.equal(undefined);
        expect(await store.get(inv!.id)).to.deep.equal(inv);
      });

      it('refuses to alter an invite\'s id, creator, creation time or token, and changes nothing', async () => {
        const [inv] = await addAll([makeInvite(1)]);
        for (const alter of [
          (d: Invite) => { d.tokenHash = hashToken(newToken()); },
          (d: Invite) => { d.createdBy = 'eve@example.org'; },
          (d: Invite) => { d.createdAt = new Date(BASE + 999).toISOString(); },
        ]) {
          let failed = false;
          await store.change(inv!.id, (d) => { alter(d); return { write: true, value: 0 }; }).catch(() => { failed = true; });
          expect(failed).to.equal(true);
        }
        expect(await store.get(inv!.id)).to.deep.equal(inv);
        expect(await store.findByHash(inv!.tokenHash)).to.deep.equal(inv);
      });

      it('50 concurrent "take the last use" changes of one invite: exactly one wins', async () => {
        const [inv] = await addAll([makeInvite(1)]);
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.change(inv!.id, takeUse(`u${i}@example.org`))));
        expect(results.filter((r) => r?.value === true)).to.have.length(1);
        expect((await store.get(inv!.id))!.uses).to.have.length(1);
      });

      it('50 concurrent changes that each add a use: none is lost (each sees the one before)', async () => {
        const [inv] = await addAll([makeInvite(1, { maxUses: 100 })]);
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.change(inv!.id, takeUse(`u${i}@example.org`))));
        expect(results.every((r) => r?.value === true)).to.equal(true);
        const uses = (await store.get(inv!.id))!.uses.map((u) => u.jid).sort();
        expect(uses).to.deep.equal(Array.from({ length: 50 }, (_, i) => `u${i}@example.org`).sort());
      });

      it('changeByHash, where the store has it: the same change, found by token hash; by hash and by id at once, none lost, one last use', async () => {
        if (!store.changeByHash) return; // optional: without it the core finds the id first (the lowdb store; its reads are in memory)
        const [inv] = await addAll([makeInvite(1, { maxUses: 100 })]);
        expect(await store.changeByHash('no-such-hash', takeUse('x@example.org'))).to.equal(undefined);
        const both = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2
          ? store.change(inv!.id, takeUse(`u${i}@example.org`))
          : store.changeByHash!(inv!.tokenHash, takeUse(`u${i}@example.org`)))));
        expect(both.every((r) => r?.value === true)).to.equal(true);
        expect((await store.get(inv!.id))!.uses).to.have.length(40);
        const [last] = await addAll([makeInvite(2)]);
        const race = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2
          ? store.change(last!.id, takeUse(`v${i}@example.org`))
          : store.changeByHash!(last!.tokenHash, takeUse(`v${i}@example.org`)))));
        expect(race.filter((r) => r?.value === true)).to.have.length(1);
      });

      it('changes of different invites do not wait for each other\'s order', async () => {
        const list = await addAll(Array.from({ length: 20 }, (_, i) => makeInvite(i)));
        const results = await Promise.all(list.map((inv) => store.change(inv.id, takeUse(`x@example.org`))));
        expect(results.every((r) => r?.value === true)).to.equal(true);
      });
    });

    describe('page', () => {
      /** Open invites of two creators, interleaved, two of them made in the same millisecond, plus closed ones. */
      async function fixture() {
        const open: Invite[] = [];
        for (let i = 0; i < 12; i++) {
          open.push(makeInvite(i * 10, { createdBy: i % 3 === 0 ? 'ann@example.org' : 'admin@example.org' }));
        }
        open.push(makeInvite(50, { createdBy: 'admin@example.org' })); // same createdAt as open[5]
        open.push(makeInvite(1000, { maxUses: 2, uses: [{ jid: 'u@example.org', at: NOW.toISOString() }] })); // one use left
        open.push(makeInvite(1001, { uses: [{ jid: 'p@example.org', at: NOW.toISOString(), pending: 'register', ref: 'r' }] })); // pending: still open
        const closed = [
          makeInvite(3, { revokedAt: NOW.toISOString() }),
          makeInvite(4, { uses: [{ jid: 'v@example.org', at: NOW.toISOString() }] }),
          makeInvite(6, { expiresAt: new Date(NOW.getTime() - 1).toISOString() }),
          makeInvite(7, { expiresAt: NOW.toISOString(), createdBy: 'ann@example.org' }), // expires exactly now: not open
        ];
        // Added out of order: the store keeps list order itself.
        await addAll([...open.slice().reverse(), ...closed]);
        return { open: open.slice().sort(byListOrder), closed };
      }

      async function walk(q: { createdBy?: string; limit: number; openAt?: Date }): Promise<{ pages: Invite[][]; all: Invite[] }> {
        const pages: Invite[][] = [];
        let after: string | undefined;
        for (let n = 0; n < 100; n++) {
          const p = await store.page({ openAt: q.openAt ?? NOW, limit: q.limit, ...(q.createdBy ? { createdBy: q.createdBy } : {}), ...(after ? { after } : {}) });
          pages.push(p.invites);
          if (!p.next) return { pages, all: pages.flat() };
          expect(p.next).to.equal(cursorOf(p.invites.at(-1)!));
          after = p.next;
        }
        throw new Error('more than 100 pages');
      }

      it('lists only open invites (isOpen), oldest first, ties by id', async () => {
        const { open, closed } = await fixture();
        const p = await store.page({ openAt: NOW, limit: 100 });
        expect(ids(p.invites)).to.deep.equal(ids(open));
        expect(p.next).to.equal(undefined);
        for (const c of closed) expect(isOpen(c, NOW)).to.equal(false);
        expect(p.invites.every((i) => isOpen(i, NOW))).to.equal(true);
      });

      it('gives `limit` at most, `next` only while more exist, and the pages join up', async () => {
        const { open } = await fixture();
        for (const limit of [1, 2, 5, open.length - 1, open.length, open.length + 1]) {
          const { pages, all } = await walk({ limit });
          expect(ids(all), `limit ${limit}`).to.deep.equal(ids(open));
          expect(pages.every((p) => p.length <= limit)).to.equal(true);
          // No empty last page when the count divides evenly.
          expect(pages.at(-1)!.length).to.be.greaterThan(0);
        }
      });

      it('with ended: every live invite, ended ones too, in the same order and pages', async () => {
        const now = NOW;
        const open = makeInvite(1);
        const revoked = makeInvite(2, { revokedAt: new Date(BASE + 10).toISOString() });
        const expired = makeInvite(3, { expiresAt: new Date(BASE + 20).toISOString() });
        for (const inv of [open, revoked, expired]) await store.add(inv);
        const first = await store.page({ openAt: now, ended: true, limit: 2 });
        const second = await store.page({ openAt: now, ended: true, limit: 2, after: first.next });
        expect([...first.invites, ...second.invites].map((i) => i.id)).to.deep.equal([open.id, revoked.id, expired.id]);
        expect(second.next).to.equal(undefined);
        expect((await store.page({ openAt: now, limit: 10 })).invites.map((i) => i.id)).to.deep.equal([open.id]);
      });

      it('filters by creator', async () => {
        const { open } = await fixture();
        const { all } = await walk({ createdBy: 'ann@example.org', limit: 2 });
        expect(ids(all)).to.deep.equal(ids(open.filter((i) => i.createdBy === 'ann@example.org')));
        expect((await store.page({ openAt: NOW, limit: 10, createdBy: 'nobody@example.org' })).invites).to.deep.equal([]);
      });

      it('judges openness at openAt', async () => {
        const { open, closed } = await fixture();
        const early = new Date(BASE - 1);
        // Before NOW, the one that expired a moment before NOW and the one expiring at NOW were still open.
        const expected = [...open, closed[2]!, closed[3]!].sort(byListOrder);
        expect(ids((await walk({ limit: 4, openAt: early })).all)).to.deep.equal(ids(expected));
        const later = new Date(BASE + 8 * 24 * HOUR);
        expect((await store.page({ openAt: later, limit: 10 })).invites).to.deep.equal([]);
      });

      it('continues after a cursor whose invite was archived meanwhile', async () => {
        const { open } = await fixture();
        const first = await store.page({ openAt: NOW, limit: 3 });
        const last = first.invites.at(-1)!;
        await store.change(last.id, (d) => { d.revokedAt = NOW.toISOString(); return { write: true, value: 0 }; });
        expect(await store.archive((i) => i.id === last.id)).to.equal(1);
        const rest = await store.page({ openAt: NOW, limit: 100, after: first.next! });
        expect(ids(rest.invites)).to.deep.equal(ids(open.slice(3)));
      });

      it('reflects a change: an invite used up leaves the list, one with a pending use stays', async () => {
        const { open } = await fixture();
        await store.change(open[0]!.id, takeUse('a@example.org'));
        await store.change(open[1]!.id, (d) => { d.uses.push({ jid: 'b@example.org', at: NOW.toISOString(), pending: 'register', ref: 'x' }); return { write: true, value: 0 }; });
        const p = await store.page({ openAt: NOW, limit: 100 });
        expect(ids(p.invites)).to.deep.equal(ids(open.slice(1)));
      });
    });

    describe('createdBy and withPendingUses', () => {
      it('createdBy: every live invite of that creator, ended ones too, oldest first', async () => {
        const mine = [
          makeInvite(30, { createdBy: 'ann@example.org' }),
          makeInvite(10, { createdBy: 'ann@example.org', revokedAt: NOW.toISOString() }),
          makeInvite(20, { createdBy: 'ann@example.org', expiresAt: new Date(BASE).toISOString() }),
        ];
        await addAll([makeInvite(15), ...mine, makeInvite(25, { createdBy: 'bob@example.org' })]);
        expect(ids(await store.createdBy('ann@example.org'))).to.deep.equal(ids(mine.slice().sort(byListOrder)));
        expect(await store.createdBy('nobody@example.org')).to.deep.equal([]);
      });

      it('withPendingUses: the invites with a pending use, and no longer once it is settled', async () => {
        const [a, b, c] = await addAll([makeInvite(1, { maxUses: 2 }), makeInvite(2), makeInvite(3)]);
        const hold = (jid: string, ref: string) => (d: Invite) => { d.uses.push({ jid, at: NOW.toISOString(), pending: 'register', ref }); return { write: true, value: 0 }; };
        await store.change(a!.id, hold('x@example.org', 'ra'));
        await store.change(b!.id, hold('y@example.org', 'rb'));
        await store.change(c!.id, takeUse('z@example.org'));
        expect(ids(await store.withPendingUses()).sort()).to.deep.equal([a!.id, b!.id].sort());
        await store.change(b!.id, (d) => { delete d.uses[0]!.pending; delete d.uses[0]!.ref; return { write: true, value: 0 }; });
        expect(ids(await store.withPendingUses())).to.deep.equal([a!.id]);
        expect((await store.withPendingUses())[0]!.uses[0]!.ref).to.equal('ra');
      });
    });

    describe('documents (groups, API keys)', () => {
      it('a document never written is undefined; a change stores it, and a reopen finds it', async () => {
        expect(await store.getDoc('groups')).to.equal(undefined);
        const v = await store.changeDoc('groups', (d) => ({ write: true, doc: { list: [{ name: 'Team' }], seen: d ?? null }, value: 7 }));
        expect(v).to.equal(7);
        expect(await store.getDoc('groups')).to.deep.equal({ list: [{ name: 'Team' }], seen: null });
        expect(await store.getDoc('api-keys')).to.equal(undefined);
        await reopen();
        expect(await store.getDoc('groups')).to.deep.equal({ list: [{ name: 'Team' }], seen: null });
      });

      it('a change with write: false, or whose fn throws, leaves the document as it was', async () => {
        await store.changeDoc('api-keys', () => ({ write: true, doc: { n: 1 }, value: undefined }));
        await store.changeDoc('api-keys', (d) => { (d as { n: number }).n = 5; return { write: false, value: undefined }; });
        let threw = false;
        try {
          await store.changeDoc('api-keys', () => { throw new Error('no'); });
        } catch { threw = true; }
        expect(threw).to.equal(true);
        expect(await store.getDoc('api-keys')).to.deep.equal({ n: 1 });
      });

      it('the draft is a private copy: changing what getDoc gave changes nothing stored', async () => {
        await store.changeDoc('groups', () => ({ write: true, doc: { list: ['a'] }, value: undefined }));
        const got = (await store.getDoc('groups')) as { list: string[] };
        got.list.push('b');
        expect(await store.getDoc('groups')).to.deep.equal({ list: ['a'] });
      });

      it('changes of two documents at once: both kept, before and after a reopen', async () => {
        await Promise.all([
          store.changeDoc('groups', () => ({ write: true, doc: { g: 1 }, value: undefined })),
          store.changeDoc('api-keys', () => ({ write: true, doc: { k: 1 }, value: undefined })),
          store.changeDoc('groups', (d) => ({ write: true, doc: { ...(d as object), h: 2 }, value: undefined })),
        ]);
        await reopen();
        expect(await store.getDoc('groups')).to.deep.equal({ g: 1, h: 2 });
        expect(await store.getDoc('api-keys')).to.deep.equal({ k: 1 });
      });

      it('30 concurrent changes that each add a member: none is lost', async () => {
        await Promise.all(Array.from({ length: 30 }, (_, i) => store.changeDoc('groups', (d) => {
          const doc = (d as { list: number[] } | undefined) ?? { list: [] };
          doc.list.push(i);
          return { write: true, doc, value: undefined };
        })));
        const doc = (await store.getDoc('groups')) as { list: number[] };
        expect([...doc.list].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 30 }, (_, i) => i));
      });
    });

    describe('roles', () => {
      it('grantRoles adds to what an account has (a union), read synchronously', async () => {
        expect(store.roles('new@example.org')).to.deep.equal([]);
        expect(store.anyoneWithRole('admin')).to.equal(false);
        await store.grantRoles('new@example.org', ['member']);
        await store.grantRoles('new@example.org', ['admin', 'member']);
        expect([...store.roles('new@example.org')].sort()).to.deep.equal(['admin', 'member']);
        expect(store.anyoneWithRole('admin')).to.equal(true);
        expect(store.anyoneWithRole('guest')).to.equal(false);
        expect(store.roles('other@example.org')).to.deep.equal([]);
      });

      it('concurrent grants to one account all count', async () => {
        await Promise.all([store.grantRoles('a@example.org', ['admin']), store.grantRoles('a@example.org', ['member']), store.grantRoles('a@example.org', ['guest'])]);
        expect([...store.roles('a@example.org')].sort()).to.deep.equal(['admin', 'guest', 'member']);
      });

      it('are there after a reopen', async () => {
        await store.grantRoles('new@example.org', ['admin']);
        await store.grantRoles('m@example.org', ['member']);
        await reopen();
        expect(store.roles('new@example.org')).to.deep.equal(['admin']);
        expect(store.roles('m@example.org')).to.deep.equal(['member']);
        expect(store.anyoneWithRole('admin')).to.equal(true);
      });
    });

    describe('archive and pruneArchives', () => {
      it('moves the ended invites out of every read, returns how many, and leaves the others', async () => {
        const ended = [makeInvite(1, { revokedAt: NOW.toISOString(), createdBy: 'ann@example.org' }), makeInvite(2, { uses: [{ jid: 'u@example.org', at: NOW.toISOString() }] })];
        const live = [makeInvite(3, { createdBy: 'ann@example.org' }), makeInvite(4)];
        await addAll([...ended, ...live]);
        expect(await store.archive((i) => !isOpen(i, NOW))).to.equal(2);
        for (const e of ended) {
          expect(await store.get(e.id)).to.equal(undefined);
          expect(await store.findByHash(e.tokenHash)).to.equal(undefined);
          expect(await store.change(e.id, () => ({ write: true, value: 0 }))).to.equal(undefined);
        }
        expect(ids(await store.createdBy('ann@example.org'))).to.deep.equal([live[0]!.id]);
        expect(ids((await store.page({ openAt: NOW, limit: 10 })).invites)).to.deep.equal(ids(live));
        expect((await store.stats()).invites).to.equal(2);
        expect(await store.archive((i) => !isOpen(i, NOW))).to.equal(0);
        await reopen();
        expect(await store.get(ended[0]!.id)).to.equal(undefined);
        expect(await store.get(live[1]!.id)).to.deep.equal(live[1]);
        expect((await store.stats()).invites).to.equal(2);
      });

      it('passes every live invite to isEnded (more than one batch)', async () => {
        const n = 2500;
        for (let i = 0; i < n; i += 250) {
          await Promise.all(Array.from({ length: 250 }, (_, k) => store.add(makeInvite(i + k, (i + k) % 2 ? { revokedAt: NOW.toISOString() } : {}))));
        }
        const seen = new Set<string>();
        const moved = await store.archive((i) => { seen.add(i.id); return Boolean(i.revokedAt); });
        expect(seen.size).to.equal(n);
        expect(moved).to.equal(n / 2);
        expect((await store.stats()).invites).to.equal(n / 2);
      });

      it('a change racing the archive is never lost: either it is kept, or the invite was archived before it and it found nothing', async () => {
        const list = await addAll(Array.from({ length: 20 }, (_, i) => makeInvite(i, { revokedAt: NOW.toISOString() })));
        const changes: { id: string; done: Promise<{ invite: Invite; value: number } | undefined> }[] = [];
        // Each judged invite is changed (un-revoked) the moment it is judged ended.
        const moved = await store.archive((inv) => {
          changes.push({ id: inv.id, done: store.change(inv.id, (d) => { delete d.revokedAt; return { write: true, value: 1 }; }) });
          return true;
        });
        expect(changes).to.have.length(list.length);
        let kept = 0;
        for (const { id, done } of changes) {
          const r = await done;
          const now = await store.get(id);
          if (r) {
            kept++;
            expect(now, `${id}: its change resolved, so it is live`).to.not.equal(undefined);
            expect(now!.revokedAt).to.equal(undefined);
          } else {
            expect(now, `${id}: its change found nothing, so it was archived`).to.equal(undefined);
          }
        }
        expect(kept + moved).to.equal(list.length);
      });

      it('pruneArchives drops what was archived longer ago than keepDays and says what, then nothing', async () => {
        await addAll([makeInvite(1, { revokedAt: NOW.toISOString() }), makeInvite(2, { revokedAt: NOW.toISOString() })]);
        expect(await store.archive(() => true)).to.equal(2);
        expect(await store.pruneArchives(90, new Date())).to.deep.equal([]);
        const later = new Date(Date.now() + 400 * 24 * HOUR);
        const gone = await store.pruneArchives(90, later);
        expect(gone.length).to.be.greaterThan(0);
        expect(gone.every((s) => typeof s === 'string' && s.length > 0)).to.equal(true);
        expect(await store.pruneArchives(90, later)).to.deep.equal([]);
      });
    });

    describe('stats, flush, close', () => {
      it('stats: the live invites and the open time', async () => {
        expect((await store.stats()).invites).to.equal(0);
        await addAll([makeInvite(1), makeInvite(2), makeInvite(3)]);
        const s = await store.stats();
        expect(s.invites).to.equal(3);
        expect(s.openSeconds).to.be.a('number').and.to.be.at.least(0);
      });

      it('flush waits for the changes asked for so far', async () => {
        const [inv] = await addAll([makeInvite(1, { maxUses: 10 })]);
        const pending = Array.from({ length: 5 }, (_, i) => store.change(inv!.id, takeUse(`f${i}@example.org`)));
        await store.flush();
        expect((await store.get(inv!.id))!.uses).to.have.length(5);
        await Promise.all(pending);
      });

      it('everything acknowledged is there after close and reopen', async () => {
        const list = await addAll(Array.from({ length: 30 }, (_, i) => makeInvite(i, { maxUses: 2, createdBy: i % 2 ? 'ann@example.org' : 'cli' })));
        await Promise.all(list.slice(0, 10).map((inv, i) => store.change(inv.id, takeUse(`c${i}@example.org`))));
        await store.change(list[10]!.id, (d) => { d.revokedAt = NOW.toISOString(); return { write: true, value: 0 }; });
        await store.change(list[11]!.id, (d) => { d.uses.push({ jid: 'p@example.org', at: NOW.toISOString(), pending: 'roster', ref: 'rp' }); return { write: true, value: 0 }; });
        await store.grantRoles('c0@example.org', ['admin']);
        const before = await Promise.all(list.map((inv) => store.get(inv.id)));
        const pageBefore = await store.page({ openAt: NOW, limit: 100 });
        await reopen();
        expect(await Promise.all(list.map((inv) => store.get(inv.id)))).to.deep.equal(before);
        expect(await store.page({ openAt: NOW, limit: 100 })).to.deep.equal(pageBefore);
        expect(ids(await store.withPendingUses())).to.deep.equal([list[11]!.id]);
        expect(ids(await store.createdBy('ann@example.org'))).to.deep.equal(ids(list.filter((i) => i.createdBy === 'ann@example.org')));
        expect(store.roles('c0@example.org')).to.deep.equal(['admin']);
        expect((await store.stats()).invites).to.equal(30);
      });
    });
  });
}

// The lowdb store's files read as streams (issue 15): the snapshot's line layout and
// the single document of earlier versions, a damaged or missing snapshot line, a
// journal of many chunks, a start-up that leaves the event loop free, and invites of
// unusual shapes that must come back exactly as they were stored.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { InviteService } from '../../src/invites/service.js';
import { hashToken } from '../../src/invites/tokens.js';
import type { Invite } from '../../src/invites/types.js';
import { LowdbStore, type StoreOptions, StoreCorruptError } from '../../src/store/lowdb/lowdb-store.js';
import { inviteJson } from '../../src/store/lowdb/invite-table.js';
import { SnapshotFile } from '../../src/store/lowdb/snapshot-file.js';
import { baseSettings } from '../helpers/core.js';

const ADMIN = { jid: 'boss@example.org' };
const ID_CHARS = '23456789abcdefghijkmnpqrstuvwxyz';
const DAY = 86_400_000;

/** Long enough to look like a token to the service. */
const tokenOf = (i: number) => `stream-test-token-${String(i).padStart(8, '0')}`;

/** Invite i of a generated store: ids of the real shape, all open for a week. */
function invite(i: number, t0: number): Invite {
  let n = 2 ** 39 + i;
  let id = '';
  for (let k = 0; k < 8; k++) {
    id = ID_CHARS[n % 32] + id;
    n = Math.floor(n / 32);
  }
  const contact = i % 10 === 9;
  return {
    id,
    tokenHash: hashToken(tokenOf(i)),
    kind: contact ? 'contact' : 'account',
    createdBy: contact ? `user${i % 7}@example.org` : ADMIN.jid,
    ...(contact ? { inviter: `user${i % 7}@example.org` } : {}),
    roles: i % 100 === 0 && !contact ? ['admin'] : [],
    maxUses: 1,
    uses: [],
    createdAt: new Date(t0 + i * 1000).toISOString(),
    expiresAt: new Date(t0 + i * 1000 + 7 * DAY).toISOString(),
  };
}

describe('invite store files, streamed', () => {
  let dir: string;
  let file: string;
  const open: LowdbStore[] = [];
  const t0 = Date.now() - DAY;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'invites-stream-'));
    file = join(dir, 'invites.json');
  });

  afterEach(async () => {
    for (const s of open.splice(0)) await s.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  async function openStore(path = file, opts: StoreOptions = {}): Promise<LowdbStore> {
    const s = await LowdbStore.open(path, opts);
    open.push(s);
    return s;
  }

  async function closeAll(): Promise<void> {
    for (const s of open.splice(0)) await s.close();
  }

  const roles = { 'new@example.org': ['admin' as const] };

  it('opens the single-document snapshot of earlier versions (any whitespace), and rewrites it in lines at the next compaction', async () => {
    const invites = Array.from({ length: 30 }, (_, i) => invite(i, t0));
    for (const text of [JSON.stringify({ version: 1, invites, roles }), JSON.stringify({ roles, invites, version: 1 }, null, 2)]) {
      await writeFile(file, text);
      const s = await openStore();
      expect(s.all()).to.deep.equal(invites);
      expect(s.roles('new@example.org')).to.deep.equal(['admin']);
      expect((await s.findByHash(hashToken(tokenOf(9))))?.inviter).to.equal('user2@example.org');
      const service = new InviteService(s, baseSettings);
      expect((await service.lookup(tokenOf(12))).state, 'a token of the old file').to.not.equal('unknown');
      service.close();
      await closeAll();
    }
    // Closed with nothing new: rewritten in lines all the same.
    await openStore();
    await closeAll();
    expect(await readFile(file, 'utf8')).to.match(/^\{"version":1,"layout":"lines",/);
    // A change, then close: the compaction writes the line layout, which opens to the same.
    const s = await openStore();
    const service = new InviteService(s, baseSettings);
    const c = await service.create(ADMIN, { kind: 'account' });
    if (!c.ok) throw new Error(c.message);
    service.close();
    await closeAll();
    const text = await readFile(file, 'utf8');
    expect(text.split('\n')[0]).to.match(/^\{"version":1,"layout":"lines","size":31,"roles":\{"new@example.org":\["admin"\]\},"crc":"[0-9a-f]{8}","invites":\[$/);
    expect(text.split('\n')).to.have.length(31 + 3); // header, 31 invites, trailer, the last newline
    const doc = JSON.parse(text) as { version: number; invites: unknown[]; count: number };
    expect(doc.version, 'still one JSON document').to.equal(1);
    expect(doc.invites).to.have.length(31);
    const again = await openStore();
    expect(again.all().slice(0, 30)).to.deep.equal(invites);
    expect((await again.findByHash(c.invite.tokenHash))?.id).to.equal(c.invite.id);
  });

  it('refuses a snapshot line with one byte changed, naming the file, the line and what to do, and changes nothing', async () => {
    await new SnapshotFile(file).write(50, (i) => inviteJson(invite(i, t0)), roles);
    const text = await readFile(file, 'utf8');
    const lines = text.split('\n');
    // Line 4 is the third invite: a letter of its token hash changed (still JSON, still an invite).
    const at = lines[3]!.indexOf('"tokenHash":"') + 14;
    lines[3] = lines[3]!.slice(0, at) + (lines[3]![at] === 'A' ? 'B' : 'A') + lines[3]!.slice(at + 1);
    await writeFile(file, lines.join('\n'));
    const err = await LowdbStore.open(file).then((s) => { open.push(s); return null; }, (e: unknown) => e);
    expect(err).to.be.instanceOf(StoreCorruptError);
    expect((err as Error).message).to.match(/invites\.json is not a readable invite store \(line 4 is damaged: its checksum does not match: a damaged block or a changed byte\)\. The store will not start over it: restore it from a backup/);
    expect(await readFile(file, 'utf8'), 'left as it is').to.equal(lines.join('\n'));
  });

  it('refuses a snapshot with a line missing, or cut short, or damaged in its header', async () => {
    await new SnapshotFile(file).write(20, (i) => inviteJson(invite(i, t0)), roles);
    const text = await readFile(file, 'utf8');
    const lines = text.split('\n');
    const cases: [string, string, RegExp][] = [
      ['a line gone', [...lines.slice(0, 5), ...lines.slice(6)].join('\n'), /line 21 is damaged: it counts 20 invites where the file holds 19: lines are missing/],
      ['cut short', text.slice(0, text.length - 400), /it ends at line \d+, before the end of the document: it was cut short/],
      ['header', text.replace('"admin"', '"admim"'), /line 1 is damaged: its checksum does not match/],
      ['old format cut short', JSON.stringify({ version: 1, invites: [invite(0, t0)], roles }).slice(0, 150), /it ends before the document does: it was cut short/],
    ];
    for (const [what, content, message] of cases) {
      await writeFile(file, content);
      const err = await LowdbStore.open(file).then((s) => { open.push(s); return null; }, (e: unknown) => e);
      expect(err, what).to.be.instanceOf(StoreCorruptError);
      expect((err as Error).message, what).to.match(message);
    }
  });

  it('opens a snapshot of 200,000 invites while a 10 ms timer keeps firing: it is read a slice at a time', async function () {
    this.timeout(120_000);
    const n = 200_000;
    await new SnapshotFile(file).write(n, (i) => inviteJson(invite(i, t0)), roles);
    // Counted, not timed: a store read in one go lets the timer fire once at most, however
    // fast the machine. How long the loop waits at most is bench 3's figure (npm run bench -- 3).
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 10);
    let s: LowdbStore;
    try {
      s = await openStore();
    } finally {
      clearInterval(timer);
    }
    expect((await s.stats()).invites).to.equal(n);
    expect(ticks, 'times the timer fired while the store opened').to.be.at.least(5);
    // And it reads right: a token from the middle, a creator's page.
    expect((await s.findByHash(hashToken(tokenOf(123_457))))?.id).to.equal(invite(123_457, t0).id);
    const page = await s.page({ createdBy: 'user3@example.org', openAt: new Date(), limit: 5 });
    const theirs = Array.from({ length: 1000 }, (_, i) => i).filter((i) => i % 10 === 9 && i % 7 === 3).slice(0, 5);
    expect(page.invites.map((i) => i.id)).to.deep.equal(theirs.map((i) => invite(i, t0).id));
  });

  it('a large snapshot is read by two threads, a half each: a damaged line in either half is named by its line in the file', async function () {
    this.timeout(120_000);
    const n = 160_000; // about 40 MB: past the size from which the second half goes to another thread
    await new SnapshotFile(file).write(n, (i) => inviteJson(invite(i, t0)), roles);
    const whole = await readFile(file);
    expect(whole.length).to.be.above(32 << 20);
    const s = await openStore();
    expect(s.all().map((i) => i.id)).to.deep.equal(Array.from({ length: n }, (_, i) => invite(i, t0).id));
    expect((await s.findByHash(hashToken(tokenOf(n - 1))))?.id, 'the last, read by the other thread').to.equal(invite(n - 1, t0).id);
    expect((await s.createdBy('user3@example.org')).length).to.equal(Array.from({ length: n }, (_, i) => i).filter((i) => i % 10 === 9 && i % 7 === 3).length);
    await closeAll();
    // Invite i is on line i + 2 (the header is line 1).
    for (const i of [1000, 150_000]) {
      const text = whole.toString('latin1');
      let at = 0;
      for (let k = 0; k < i + 1; k++) at = text.indexOf('\n', at) + 1;
      at = text.indexOf('"tokenHash":"', at) + 14;
      const bad = Buffer.from(whole);
      bad[at] = bad[at] === 65 ? 66 : 65;
      await writeFile(file, bad);
      const err = await LowdbStore.open(file).then((x) => { open.push(x); return null; }, (e: unknown) => e);
      expect(err, `invite ${i}`).to.be.instanceOf(StoreCorruptError);
      expect((err as Error).message).to.include(`(line ${i + 2} is damaged: its checksum does not match`);
    }
  });

  it('lists come out in order when the files are not: a shuffled old snapshot, a journal invite older than the snapshot\'s last', async () => {
    const invites = Array.from({ length: 300 }, (_, i) => invite(i, t0));
    const shuffled = invites.map((inv, i) => ({ inv, k: (i * 7919) % 300 })).sort((a, b) => a.k - b.k).map((x) => x.inv);
    await writeFile(file, JSON.stringify({ version: 1, invites: shuffled.slice(0, 299), roles }));
    // The one left out comes from the journal, older than most of the snapshot's.
    const early = shuffled[299]!;
    await writeFile(`${file}.journal`, `${JSON.stringify({ op: 'invite', invite: early })}\n`);
    const s = await openStore();
    expect(s.all().map((i) => i.id)).to.deep.equal(invites.map((i) => i.id));
    const mine = (await s.createdBy('user3@example.org')).map((i) => i.id);
    expect(mine).to.deep.equal(invites.filter((inv) => inv.createdBy === 'user3@example.org').map((i) => i.id));
    const page = await s.page({ openAt: new Date(), limit: 10, after: `${invites[100]!.createdAt}|${invites[100]!.id}` });
    expect(page.invites.map((i) => i.id)).to.deep.equal(invites.slice(101, 111).map((i) => i.id));
  });

  it('replays a journal of many chunks, and one whose last whole line lacks its newline goes on after a new one', async function () {
    this.timeout(60_000);
    const s = await LowdbStore.open(file, { compactAt: Number.MAX_SAFE_INTEGER });
    const service = new InviteService(s, { ...baseSettings, maxInvitesPerUser: 100_000 });
    const tokens: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const c = await service.create(ADMIN, { kind: 'account' });
      if (!c.ok) throw new Error(c.message);
      tokens.push(c.token);
    }
    service.close();
    // A crash image: the journal alone (over 1 MiB, so several reads), its last newline cut off.
    const journal = await readFile(`${file}.journal`);
    expect(journal.length).to.be.above(1 << 20);
    await s.close(); // (compacts; the image below does not see that)
    const image = join(dir, 'image', 'invites.json');
    await LowdbStore.open(image).then((x) => x.close());
    await rm(image, { force: true });
    await writeFile(`${image}.journal`, journal.subarray(0, journal.length - 1));
    const again = await openStore(image, { compactAt: Number.MAX_SAFE_INTEGER });
    const service2 = new InviteService(again, { ...baseSettings, maxInvitesPerUser: 100_000 });
    for (const t of [tokens[0]!, tokens[2500]!, tokens[4999]!]) expect((await service2.lookup(t)).state).to.equal('valid');
    expect((await again.stats()).invites).to.equal(5000);
    const more = await service2.create(ADMIN, { kind: 'account' });
    if (!more.ok) throw new Error(more.message);
    service2.close();
    // The line before it was ended first, so both are whole lines now.
    const text = await readFile(`${image}.journal`, 'utf8');
    expect(text.endsWith('\n')).to.equal(true);
    expect(text.split('\n').slice(-3, -1).every((l) => /\t[0-9a-f]{8}$/.test(l))).to.equal(true);
    // That journal alone, as a crash would leave it, opens to all of them.
    const image2 = join(dir, 'image2', 'invites.json');
    await LowdbStore.open(image2).then((x) => x.close());
    await writeFile(`${image2}.journal`, text);
    const third = await openStore(image2);
    expect((await third.stats()).invites).to.equal(5001);
  });

  it('keeps invites of unusual shapes exactly as stored, through the journal and through the snapshot', async () => {
    const odd = [
      // An id and a token hash of other shapes, times not as toISOString writes them, a field this version does not know.
      { ...invite(1, t0), id: 'legacy-id-1', tokenHash: 'not-base64', createdAt: '2026-01-02T03:04:05Z', expiresAt: '2999-01-01T00:00:00.000+01:00', note: { by: 'hand' } },
      // Uses, a pending one among them, a revocation, a bound username, several roles, a JID with non-ASCII letters.
      { ...invite(2, t0), createdBy: 'zoë@exämple.org', username: 'bob', roles: ['admin', 'moderator'], maxUses: 3,
        uses: [{ jid: 'a@example.org', at: new Date(t0).toISOString() }, { jid: 'b@example.org', at: new Date(t0).toISOString(), pending: 'register', ref: 'r1' }] },
      { ...invite(3, t0), revokedAt: new Date(t0 + 5).toISOString(), kind: 'reset', username: 'carol' },
      { ...invite(4, t0), createdBy: 'quote"and\\backslash@example.org', maxUses: 2.5 },
    ] as unknown as Invite[];
    const s = await openStore();
    for (const inv of odd) await s.add(inv);
    const sorted = (xs: readonly Invite[]) => [...xs].sort((a, b) => a.id.localeCompare(b.id));
    expect(sorted(s.all())).to.deep.equal(sorted(odd));
    expect((await s.withPendingUses()).map((i) => i.id)).to.deep.equal([odd[1]!.id]);
    expect((await s.findByHash('not-base64'))?.id).to.equal('legacy-id-1');
    expect((await s.page({ openAt: new Date(), limit: 10 })).invites.map((i) => i.id).sort(), 'open ones (the revoked one is not)')
      .to.deep.equal([odd[0]!.id, odd[1]!.id, odd[3]!.id].sort());
    // What a reader gets is a copy: changing it changes nothing stored.
    (await s.get('legacy-id-1'))!.roles.push('admin');
    expect((await s.get('legacy-id-1'))!.roles).to.deep.equal([]);
    await closeAll();
    const journalOnly = join(dir, 'j', 'invites.json');
    // Through the snapshot (close compacted) …
    const again = await openStore();
    expect(sorted(again.all())).to.deep.equal(sorted(odd));
    expect(await again.createdBy('zoë@exämple.org')).to.deep.equal([odd[1]]);
    // … and through a journal alone.
    const j = await openStore(journalOnly);
    for (const inv of odd) await j.add(inv);
    open.splice(open.indexOf(j), 1);
    await LowdbStore.open(join(dir, 'k', 'invites.json')).then((x) => x.close());
    await writeFile(join(dir, 'k', 'invites.json.journal'), await readFile(`${journalOnly}.journal`));
    await j.close();
    const k = await openStore(join(dir, 'k', 'invites.json'));
    expect(sorted(k.all())).to.deep.equal(sorted(odd));
  });
});

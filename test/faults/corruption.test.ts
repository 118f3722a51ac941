// The lowdb store's files damaged at seeded random offsets (a bad block, a flipped
// bit, bytes lost from the middle by an interrupted copy), 100 cases: start-up
// either has every acknowledged invite exactly as it was, or refuses with a
// StoreCorruptError naming the file and the line. Never a silent loss or change.
//
// Not among the cases: damage reaching a file's last byte. A journal that ends
// without its newline reads exactly like a write cut short by a crash, which was
// never acknowledged and is dropped by design (docs/store.md); no format can tell
// the two apart without knowing, out of band, how long the file should be.
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { StoreCorruptError } from '../../src/store/corrupt.js';
import { LowdbStore } from '../../src/store/lowdb/lowdb-store.js';
import { type Core, makeCore } from '../helpers/core.js';
import { Prng, fuzzSeed } from '../helpers/prng.js';

const SEED = fuzzSeed(20261201);
const CASES = 100;
const ADMIN = { jid: 'boss@example.org' };

type Damage = 'flip' | 'zeros' | 'garbage' | 'cut';

/** Damage `buf` somewhere before its last byte; returns the new bytes and what was done. */
function damage(buf: Buffer, kind: Damage, rnd: Prng): { bytes: Buffer; what: string } {
  const last = buf.length - 1; // the final newline stays
  const at = rnd.int(last);
  const len = Math.max(1, Math.min(last - at, 1 + rnd.int(kind === 'cut' ? 4096 : 512)));
  const out = Buffer.from(buf);
  switch (kind) {
    case 'flip':
      out[at] = out[at]! ^ (1 + rnd.int(255));
      return { bytes: out, what: `byte ${at} flipped` };
    case 'zeros':
      out.fill(0, at, at + len);
      return { bytes: out, what: `${len} bytes zeroed at ${at}` };
    case 'garbage':
      for (let i = at; i < at + len; i++) out[i] = rnd.int(256);
      return { bytes: out, what: `${len} random bytes at ${at}` };
    case 'cut':
      return { bytes: Buffer.concat([buf.subarray(0, at), buf.subarray(at + len)]), what: `${len} bytes cut out at ${at}` };
  }
}

describe(`faults: the store's files damaged at random (${CASES} cases, seed ${SEED})`, function () {
  this.timeout(120_000);
  let core: Core;
  let image: string;
  /** Every acknowledged invite, as JSON, by id; and the roles. */
  let expected: Map<string, string>;
  let roles: string;

  before(async () => {
    core = await makeCore({ maxInvitesPerUser: 1000 });
    // A snapshot with invites in it, then a journal of changes on top: both files have lines.
    for (let i = 0; i < 120; i++) await core.service.create(ADMIN, { kind: 'account' });
    await core.store.grantRoles('ann@example.org', ['admin']);
    await core.store.compact();
    const later = [];
    for (let i = 0; i < 80; i++) {
      const r = await core.service.create(ADMIN, { kind: 'account', roles: i % 10 === 0 ? ['member'] : [] });
      if (r.ok) later.push(r.invite.id);
    }
    for (const id of later.slice(0, 20)) await core.service.revoke(ADMIN, id);
    await core.store.grantRoles('bob@example.org', ['member']);
    // The files as a kill -9 would leave them: every change above was acknowledged.
    image = await mkdtemp(join(tmpdir(), 'invites-corrupt-image-'));
    for (const f of await readdir(core.dir)) if (f.startsWith('invites.json') && !f.endsWith('.lock')) await copyFile(join(core.dir, f), join(image, f));
    expected = new Map(core.store.all().map((i) => [i.id, JSON.stringify(i)]));
    roles = JSON.stringify([core.store.roles('ann@example.org'), core.store.roles('bob@example.org')]);
    expect(expected.size).to.equal(200);
  });

  after(async () => {
    await core?.cleanup();
    if (image) await rm(image, { recursive: true, force: true });
  });

  it('the undamaged image opens with every acknowledged change', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'invites-corrupt-'));
    try {
      for (const f of await readdir(image)) await copyFile(join(image, f), join(dir, f));
      const store = await LowdbStore.open(join(dir, 'invites.json'));
      expect(new Map(store.all().map((i) => [i.id, JSON.stringify(i)]))).to.deep.equal(expected);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('every damaged copy opens whole, or is refused naming the file and line', async () => {
    const rnd = new Prng(SEED);
    const files = (await readdir(image)).filter((f) => f === 'invites.json' || f === 'invites.json.journal');
    expect(files, 'a snapshot and a journal to damage').to.have.length(2);
    const tally = { refused: 0, whole: 0 };
    for (let n = 0; n < CASES; n++) {
      const dir = await mkdtemp(join(tmpdir(), 'invites-corrupt-'));
      try {
        for (const f of await readdir(image)) await copyFile(join(image, f), join(dir, f));
        const target = files[rnd.int(files.length)]!;
        const kind = (['flip', 'zeros', 'garbage', 'cut'] as const)[rnd.int(4)]!;
        const { bytes, what } = damage(await readFile(join(image, target)), kind, rnd);
        await writeFile(join(dir, target), bytes);
        const label = `case ${n} (seed ${SEED}): ${target}, ${what}`;
        let store: LowdbStore | undefined;
        try {
          store = await LowdbStore.open(join(dir, 'invites.json'));
        } catch (e) {
          expect(e, `${label}: ${(e as Error).stack}`).to.be.instanceOf(StoreCorruptError);
          expect((e as Error).message, label).to.include(join(dir, target)).and.match(/line \d+/);
          tally.refused++;
          continue;
        }
        try {
          const got = new Map(store.all().map((i) => [i.id, JSON.stringify(i)]));
          for (const [id, json] of expected) expect(got.get(id), `${label}: invite ${id}`).to.equal(json);
          expect(got.size, `${label}: no invite made up`).to.equal(expected.size);
          expect(JSON.stringify([store.roles('ann@example.org'), store.roles('bob@example.org')]), `${label}: roles`).to.equal(roles);
          tally.whole++;
        } finally {
          await store.close();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    expect(tally.refused + tally.whole, JSON.stringify(tally)).to.equal(CASES);
    expect(tally.refused, 'most damage is refused (whole: the damage changed nothing read)').to.be.greaterThan(CASES / 2);
  });
});

// The store on disk: journal replay, torn and corrupt files, compaction crash
// images, archive, and a kill -9 of a process writing to it.
import { appendFile, cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { InviteService } from '../../src/invites/service.js';
import { LowdbStore, type StoreOptions, StoreCorruptError } from '../../src/store/lowdb/lowdb-store.js';
import { captureStderr } from '../helpers/stderr.js';
import { baseSettings } from '../helpers/core.js';
import { spawnScript } from '../helpers/scripts.js';

const ADMIN = { jid: 'boss@example.org' };

interface Opened {
  store: LowdbStore;
  service: InviteService;
}

async function openAt(file: string, opts: StoreOptions = {}): Promise<Opened> {
  const store = await LowdbStore.open(file, opts);
  return { store, service: new InviteService(store, baseSettings) };
}

async function create(s: Opened): Promise<string> {
  const c = await s.service.create(ADMIN, { kind: 'account' });
  if (!c.ok) throw new Error(c.message);
  return c.token;
}

async function use(s: Opened, token: string, jid: string): Promise<void> {
  const r = await s.service.reserve(token, { purpose: 'register', username: jid.split('@')[0]! });
  if (!r.ok) throw new Error(r.message);
  const done = await s.service.commit(r.reservation, jid);
  if (!done.ok) throw new Error(done.message);
}

/** Everything the store holds, in a comparable form. */
function contents(store: LowdbStore): unknown {
  return { invites: [...store.all()].sort((a, b) => a.id.localeCompare(b.id)), roles: store.roles('new@example.org') };
}

describe('invite store on disk', () => {
  let dir: string;
  let file: string;
  let images = 0;
  const open: Opened[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'invites-store-'));
    file = join(dir, 'live', 'invites.json');
  });

  afterEach(async () => {
    for (const s of open.splice(0)) {
      s.service.close();
      await s.store.close().catch(() => {});
    }
    await rm(dir, { recursive: true, force: true });
  });

  async function track(p: Promise<Opened>): Promise<Opened> {
    const s = await p;
    open.push(s);
    return s;
  }

  /** The files as a crash would leave them now: a copy of the live directory. */
  async function crashImage(): Promise<string> {
    const image = join(dir, `image${++images}`);
    await cp(join(dir, 'live'), image, { recursive: true });
    return join(image, 'invites.json');
  }

  it('replays the journal on open: a crash loses no acknowledged change', async () => {
    const s = await track(openAt(file));
    const [a, b, c] = [await create(s), await create(s), await create(s)];
    await use(s, a, 'new@example.org');
    const admin = await s.service.create(ADMIN, { kind: 'account', roles: ['admin'] });
    if (!admin.ok) throw new Error();
    await use(s, admin.token, 'new@example.org');
    const revoked = await s.service.revoke(ADMIN, (await s.service.lookup(b)).invite!.id);
    expect(revoked.ok).to.equal(true);

    const image = await crashImage();
    expect(existsSync(image), 'no snapshot written yet: all of it is in the journal').to.equal(false);
    const again = await track(openAt(image));
    expect(contents(again.store)).to.deep.equal(contents(s.store));
    expect((await again.service.lookup(a)).state).to.equal('used');
    expect((await again.service.lookup(b)).state).to.equal('revoked');
    expect((await again.service.lookup(c)).state).to.equal('valid');
    expect(again.service.isAdmin('new@example.org')).to.equal(true);
    // Opening wrote no snapshot (no free space needed for one): the journal goes on where it ended.
    expect(existsSync(image), 'no snapshot written by opening').to.equal(false);
    const journal = await readFile(`${image}.journal`, 'utf8');
    const d = await create(again);
    expect((await readFile(`${image}.journal`, 'utf8')).startsWith(journal), 'appended after the replayed lines').to.equal(true);
    // The next compaction folds it all in.
    await again.store.flush();
    expect(JSON.parse(await readFile(image, 'utf8')).invites).to.have.length(5);
    expect(await readFile(`${image}.journal`, 'utf8')).to.equal('');
    expect((await again.service.lookup(d)).state).to.equal('valid');
  });

  it('starts on a disk with no room for a second snapshot, and keeps every acknowledged change', async () => {
    const s = await track(openAt(file));
    const tokens = [await create(s), await create(s)];
    const image = await crashImage();
    // A .journal.old left by a compaction cut short, and a live journal after it.
    await writeFile(`${image}.journal.old`, await readFile(`${image}.journal`, 'utf8'));
    const again = await track(openAt(image));
    for (const t of tokens) expect((await again.service.lookup(t)).state).to.equal('valid');
    expect(existsSync(`${image}.journal.old`), 'kept until a compaction has folded it').to.equal(true);
    await again.store.flush();
    expect(existsSync(`${image}.journal.old`)).to.equal(false);
    await again.store.close();
    const third = await track(openAt(image));
    for (const t of tokens) expect((await third.service.lookup(t)).state).to.equal('valid');
  });

  it('writes one journal line per change, not the whole file', async () => {
    const s = await track(openAt(file));
    const token = await create(s);
    await use(s, token, 'x@example.org');
    const raw = (await readFile(`${file}.journal`, 'utf8')).trim().split('\n');
    // Each line: the change as JSON, a tab, its CRC-32 in hex.
    for (const l of raw) expect(l).to.match(/^\{.*\}\t[0-9a-f]{8}$/);
    const lines = raw.map((l) => JSON.parse(l.slice(0, l.lastIndexOf('\t'))));
    // Created; held (a pending use, before the server makes the account); confirmed.
    expect(lines.map((l) => l.op)).to.deep.equal(['invite', 'invite', 'invite']);
    expect(lines[1].invite.uses).to.deep.equal([{ jid: 'x@example.org', at: lines[1].invite.uses[0].at, pending: 'register', ref: lines[1].invite.uses[0].ref }]);
    expect(lines[2].invite.uses).to.have.length(1);
    expect(lines[2].invite.uses[0]).to.not.have.property('pending');
    expect(lines[2].invite.uses[0]).to.not.have.property('ref');
    expect(await readFile(`${file}.journal`, 'utf8')).to.not.include(token);
  });

  it('close() leaves everything in the snapshot and an empty journal', async () => {
    const s = await openAt(file);
    const token = await create(s);
    await s.store.close();
    const snap = JSON.parse(await readFile(file, 'utf8'));
    expect(snap.version).to.equal(1);
    expect(snap.invites).to.have.length(1);
    expect(await readFile(`${file}.journal`, 'utf8')).to.equal('');
    expect(existsSync(`${file}.journal.old`)).to.equal(false);
    const again = await track(openAt(file));
    expect((await again.service.lookup(token)).state).to.equal('valid');
    await s.store.close(); // twice is harmless
  });

  it('drops a last journal line torn by a crash, and stays writable', async () => {
    const s = await track(openAt(file));
    const kept = await create(s);
    const image = await crashImage();
    const torn = (await readFile(`${image}.journal`, 'utf8')).split('\n')[0]!.slice(0, 60);
    await appendFile(`${image}.journal`, torn);

    const again = await track(openAt(image));
    expect(again.store.all()).to.have.length(1);
    expect((await again.service.lookup(kept)).state).to.equal('valid');
    const more = await create(again);
    await again.store.close();
    open.pop();
    const third = await track(openAt(image));
    expect((await third.service.lookup(more)).state).to.equal('valid');
    expect(third.store.all()).to.have.length(2);
  });

  it('refuses to start on a corrupt journal line that is not the last, and changes no file', async () => {
    const s = await track(openAt(file));
    await create(s);
    await create(s);
    await s.store.compact();
    await create(s);
    await create(s);
    const image = await crashImage();
    const lines = (await readFile(`${image}.journal`, 'utf8')).split('\n');
    lines[0] = lines[0]!.slice(0, 30);
    await writeFile(`${image}.journal`, lines.join('\n'));
    const before = { snap: await readFile(image, 'utf8'), journal: await readFile(`${image}.journal`, 'utf8') };

    const err = await LowdbStore.open(image).then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(StoreCorruptError);
    expect((err as Error).message).to.include('invites.json.journal line 1');
    expect(await readFile(image, 'utf8')).to.equal(before.snap);
    expect(await readFile(`${image}.journal`, 'utf8')).to.equal(before.journal);
  });

  it('refuses a journal line with one byte changed (its checksum), naming the file, the line and what to do', async () => {
    const s = await track(openAt(file));
    const a = await create(s);
    await create(s);
    const image = await crashImage();
    const text = await readFile(`${image}.journal`, 'utf8');
    // A changed letter in the first line's token hash: still JSON, still an invite, but another one.
    const at = text.indexOf('"tokenHash":"') + 14;
    const flipped = text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    await writeFile(`${image}.journal`, flipped);
    const err = await LowdbStore.open(image).then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(StoreCorruptError);
    expect((err as Error).message).to.match(/invites\.json\.journal line 1 is damaged \(its checksum does not match: a damaged block or a changed byte\)\. The store will not start over it: restore the file from a backup, or move it away/);
    expect(await readFile(`${image}.journal`, 'utf8'), 'left as it is').to.equal(flipped);
    expect(a).to.be.a('string');
  });

  it('reports a last line cut short (a crash while writing) and starts with every whole line', async () => {
    const s = await track(openAt(file));
    const kept = await create(s);
    await create(s);
    const image = await crashImage();
    const text = await readFile(`${image}.journal`, 'utf8');
    const cut = text.slice(0, text.lastIndexOf('\n', text.length - 2) + 1 + 40); // the second line, 40 bytes of it
    await writeFile(`${image}.journal`, cut);
    const { result: reopened, stderr } = await captureStderr(() => openAt(image));
    expect(stderr).to.match(/invites\.json\.journal: its last line was cut short \(40 bytes\) and is dropped/);
    expect((await reopened.service.lookup(kept)).state).to.equal('valid');
    await reopened.store.close();
  });

  it('refuses a journal line that is JSON but not a store change', async () => {
    const s = await track(openAt(file));
    await create(s);
    const image = await crashImage();
    await appendFile(`${image}.journal`, '{"op":"invite","invite":{"id":"x"}}\n');
    const err = await LowdbStore.open(image).then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(StoreCorruptError);
    expect((err as Error).message).to.include('line 2 is not a store change');
  });

  it('refuses a corrupt snapshot and leaves it as it is', async () => {
    const s = await track(openAt(file));
    await create(s);
    await s.store.flush();
    const image = await crashImage();
    const cut = (await readFile(image, 'utf8')).slice(0, 100);
    await writeFile(image, cut);
    const err = await LowdbStore.open(image).then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(StoreCorruptError);
    expect((err as Error).message).to.match(/is not a readable invite store/);
    expect(await readFile(image, 'utf8')).to.equal(cut);
  });

  it('compaction: a crash after each step leaves files that open to every acknowledged change', async () => {
    const steps: Record<string, string> = {};
    let s!: Opened;
    const tokens: Record<string, string> = {};
    const hook = async (step: 'rotated' | 'snapshot-written') => {
      if (steps[step]) return; // only the first compaction
      if (step === 'rotated') {
        // Written while the snapshot is being made: into the fresh journal.
        await use(s, tokens.b!, 'b@example.org');
        tokens.d = await create(s);
      } else {
        await s.service.revoke(ADMIN, (await s.service.lookup(tokens.c!)).invite!.id);
      }
      steps[step] = await crashImage();
    };
    s = await track(openAt(file, { compactAt: Number.MAX_SAFE_INTEGER, onCompactionStep: hook }));
    tokens.a = await create(s);
    tokens.b = await create(s);
    tokens.c = await create(s);
    await use(s, tokens.a, 'a@example.org');
    const before = await crashImage();
    await s.store.compact();
    const after = await crashImage();

    // The writer's lock file is no part of what a crash leaves to open.
    const files = async (image: string) => (await readdir(join(image, '..'))).filter((f) => !f.endsWith('.lock')).sort();
    expect(await files(steps.rotated!)).to.deep.equal(['invites.json.journal', 'invites.json.journal.old']);
    expect(await files(steps['snapshot-written']!)).to.deep.equal(['invites.json', 'invites.json.journal', 'invites.json.journal.old']);
    expect(await files(after)).to.deep.equal(['invites.json', 'invites.json.journal']);

    const expected: [string, Record<string, string>][] = [
      [before, { a: 'used', b: 'valid', c: 'valid', d: 'unknown' }],
      [steps.rotated!, { a: 'used', b: 'used', c: 'valid', d: 'valid' }],
      // The old journal still says b is unused; the newer line in the fresh journal wins.
      [steps['snapshot-written']!, { a: 'used', b: 'used', c: 'revoked', d: 'valid' }],
      [after, { a: 'used', b: 'used', c: 'revoked', d: 'valid' }],
    ];
    for (const [image, states] of expected) {
      const again = await track(openAt(image));
      const got = Object.fromEntries(await Promise.all(Object.entries(states).map(async ([k]) => [k, (await again.service.lookup(tokens[k]!)).state])));
      expect(got, image).to.deep.equal(states);
    }
  });

  it('a failed compaction keeps its old journal; the next one finishes the job', async () => {
    let fail = true;
    const s = await track(openAt(file, {
      compactAt: Number.MAX_SAFE_INTEGER,
      onCompactionStep: (step) => { if (fail && step === 'rotated') throw new Error('disk full'); },
    }));
    const a = await create(s);
    const err = await s.store.compact().then(() => null, (e: unknown) => e);
    expect((err as Error).message).to.equal('disk full');
    expect(existsSync(`${file}.journal.old`)).to.equal(true);
    const b = await create(s);
    fail = false;
    await s.store.flush();
    expect(existsSync(`${file}.journal.old`)).to.equal(false);
    const again = await track(openAt(await crashImage()));
    expect((await again.service.lookup(a)).state).to.equal('valid');
    expect((await again.service.lookup(b)).state).to.equal('valid');
  });

  it('compacts by itself once the journal reaches compactAt, while writers carry on', async () => {
    const s = await track(openAt(file, { compactAt: 4096 }));
    const tokens: string[] = [];
    let compactions = 0;
    for (let i = 0; i < 60; i++) {
      tokens.push(await create(s));
      const running = s.store.compaction;
      if (running) {
        compactions++;
        // More changes while it runs: none may be lost.
        tokens.push(await create(s));
        await running;
      }
    }
    expect(compactions).to.be.greaterThan(0);
    const again = await track(openAt(await crashImage()));
    for (const t of tokens) expect((await again.service.lookup(t)).state).to.equal('valid');
    expect(again.store.all()).to.have.length(tokens.length);
  });

  it('a writer awaiting changes in a tight loop does not starve a compaction', async () => {
    const s = await track(openAt(file));
    for (let i = 0; i < 20; i++) await create(s);
    let compacted = false;
    const compaction = s.store.compact().then(() => { compacted = true; });
    // Bounded, so that a starving store fails this test instead of hanging it.
    let n = 0;
    while (!compacted && n < 5000) {
      await create(s);
      n++;
    }
    expect(compacted, `compaction still running after ${n} changes`).to.equal(true);
    await compaction;
  });

  it('a change made after the event loop has turned is written without waiting for another turn', async () => {
    // The common case, a request read from a socket: its answer should not wait behind timers and I/O.
    const s = await track(openAt(file));
    await create(s);
    await new Promise((r) => setImmediate(r));
    let turned = false;
    setImmediate(() => { turned = true; });
    await create(s);
    expect(turned, 'the write waited for a turn of the event loop').to.equal(false);
  });

  it('archives ended invites; a reopened store does not bring them back', async () => {
    const s = await track(openAt(file));
    const [used, kept] = [await create(s), await create(s)];
    await use(s, used, 'u@example.org');
    const n = await s.store.archive((inv) => inv.uses.length > 0);
    expect(n).to.equal(1);
    expect((await s.service.lookup(used)).state).to.equal('unknown');
    const archived = (await readFile(LowdbStore.archivePath(join(dir, 'live', 'invites.json'), new Date()), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(archived.map((i) => i.uses[0]?.jid)).to.deep.equal(['u@example.org']);
    // A change after the archive goes to the journal; a crash image replays it without the archived invite.
    const later = await create(s);
    const again = await track(openAt(await crashImage()));
    expect((await again.service.lookup(used)).state).to.equal('unknown');
    expect((await again.service.lookup(kept)).state).to.equal('valid');
    expect((await again.service.lookup(later)).state).to.equal('valid');
    const changed = await s.store.change((await s.service.lookup(kept)).invite!.id, () => ({ write: true, value: 'ok' }));
    expect(changed?.value).to.equal('ok');
  });

  it('keeps invites per creator (the quota check) across archive and reopen', async () => {
    const s = await track(openAt(file));
    const ann = { jid: 'ann@example.org' };
    const made = [];
    for (let i = 0; i < 3; i++) {
      const c = await s.service.create(ann, { kind: 'contact' });
      if (!c.ok) throw new Error(c.message);
      made.push(c);
    }
    await create(s);
    // The test clock stands still: same creation time, so list order is by id.
    const ids = (invites: { id: string }[]) => invites.map((i) => i.id).sort();
    expect(ids(await s.store.createdBy(ann.jid))).to.deep.equal(ids(made.map((c) => c.invite)));
    expect((await s.service.create(ann, { kind: 'contact' })).ok, 'quota of 3').to.equal(false);
    await s.service.revoke(ann, made[0]!.invite.id);
    await s.store.archive((inv) => inv.revokedAt !== undefined);
    expect(await s.store.createdBy(ann.jid)).to.have.length(2);
    const again = await track(openAt(await crashImage()));
    expect(ids(await again.store.createdBy(ann.jid))).to.deep.equal(ids(made.slice(1).map((c) => c.invite)));
    expect(await again.store.createdBy(ADMIN.jid)).to.have.length(1);
    expect((await again.service.create(ann, { kind: 'contact' })).ok).to.equal(true);
  });

  it('changes nothing, and says so, for an invite it does not hold', async () => {
    const s = await track(openAt(file));
    const token = await create(s);
    const inv = (await s.service.lookup(token)).invite!;
    await s.store.archive(() => true);
    let called = false;
    expect(await s.store.change(inv.id, () => { called = true; return { write: true, value: 1 }; })).to.equal(undefined);
    expect(called).to.equal(false);
  });

  it('works the same with fsync on', async () => {
    const s = await track(openAt(file, { fsync: true }));
    const token = await create(s);
    await use(s, token, 'f@example.org');
    const again = await track(openAt(await crashImage()));
    expect((await again.service.lookup(token)).state).to.equal('used');
  });

  it('kill -9 in the middle of a burst: every invite whose creation or use was acknowledged is on disk', async function () {
    this.timeout(120_000);
    const created = new Set<string>();
    const used = new Set<string>();
    // Several rounds on the same store, killed at different points; small compactAt
    // so compactions are running when the kill lands.
    for (const killAfter of [150, 400, 700]) {
      const child = spawnScript('test/helpers/store-burst.ts', [file, '8192'], { cwd: dir });
      let out = '';
      let errOut = '';
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      child.stderr!.on('data', (d) => (errOut += d));
      await new Promise<void>((resolve) => {
        child.stdout!.on('data', (d) => {
          out += d;
          if (out.split('\n').length > killAfter + 1) resolve();
        });
        void exited.then(() => resolve());
      });
      child.kill('SIGKILL');
      expect(await exited, errOut).to.equal('SIGKILL');
      // Only whole lines: each was printed after its change resolved.
      for (const line of out.split('\n').slice(0, -1)) {
        const [what, token] = line.split(' ');
        if (what === 'created') created.add(token!);
        if (what === 'used') used.add(token!);
      }
      // The snapshot as the kill left it is whole JSON (or not written yet).
      if (existsSync(file)) expect(JSON.parse(await readFile(file, 'utf8')).version).to.equal(1);
      const s = await openAt(file);
      for (const t of created) expect((await s.service.lookup(t)).state, `created ${t}`).to.not.equal('unknown');
      for (const t of used) expect((await s.service.lookup(t)).state, `used ${t}`).to.equal('used');
      s.service.close();
      await s.store.close();
    }
    expect(created.size).to.be.greaterThan(500);
    expect(used.size).to.be.greaterThan(200);
  });
});

// The store's one-writer rule rests on a kernel lock (flock on STORE_FILE.lock),
// taken by LowdbStore.open itself. Found before: a reused PID (PID 1 in a
// container after kill -9) blocked every start, two processes taking over a stale
// lock both won in 19 of 30 tries, and LowdbStore.open took no lock at all.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { LowdbStore } from '../../src/store/lowdb/lowdb-store.js';
import { StoreLockedError } from '../../src/store/lowdb/writer-lock.js';
import { ROOT, TSX_LOADER } from '../helpers/scripts.js';

const HOLDER = join(ROOT, 'test/helpers/store-holder.ts');

/** Run the holder (optionally as PID 1 of a new PID namespace); resolves with its first line and a way to end it. */
function holder(file: string, opts: { holdMs?: number; pid1?: boolean } = {}) {
  const node = [process.execPath, '--import', pathToFileURL(TSX_LOADER).href, HOLDER, file, String(opts.holdMs ?? 60_000)];
  const child = opts.pid1
    ? spawn('unshare', ['--pid', '--fork', '--kill-child', ...node], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(node[0]!, node.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const line = new Promise<string>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    void exited.then(() => resolve(out.split('\n')[0] ?? ''));
  });
  return { child, line, exited };
}

describe('faults: one writer per store file, by a kernel lock (real processes)', function () {
  this.timeout(60_000);
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'invites-lock-'));
    file = join(dir, 'invites.json');
  });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('a second open in the same process is refused, and allowed once the first is closed', async () => {
    const first = await LowdbStore.open(file);
    const err = await LowdbStore.open(file).then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(StoreLockedError);
    expect((err as Error).message).to.equal(`${file} is in use by process ${process.pid}`);
    await first.close();
    await (await LowdbStore.open(file)).close();
  });

  it('a lock file naming a live process that holds no lock (a reused PID), or empty (a full disk), is no lock', async () => {
    for (const text of ['1', String(process.ppid), '']) {
      await writeFile(`${file}.lock`, text);
      const s = await LowdbStore.open(file);
      expect(await readFile(`${file}.lock`, 'utf8')).to.equal(String(process.pid));
      await s.close();
    }
  });

  it('of 12 processes started at once on one store, exactly one opens it', async () => {
    const all = Array.from({ length: 12 }, () => holder(file, { holdMs: 8000 }));
    const lines = await Promise.all(all.map((h) => h.line));
    for (const h of all) h.child.kill('SIGKILL');
    await Promise.all(all.map((h) => h.exited));
    expect(lines.filter((l) => l.startsWith('open ')), lines.join('\n')).to.have.length(1);
    expect(lines.filter((l) => l.startsWith('locked: '))).to.have.length(11);
  });

  it('kill -9 of the holder frees the store at once, also when it was PID 1 of a container and the next one is too', async () => {
    const first = holder(file, { pid1: true });
    expect(await first.line).to.equal('open 1');
    expect(await readFile(`${file}.lock`, 'utf8')).to.equal('1');
    first.child.kill('SIGKILL'); // unshare --kill-child: PID 1 of the namespace dies with it
    await first.exited;
    const second = holder(file, { pid1: true, holdMs: 100 });
    expect(await second.line, 'PID 1 again, with the old lock file saying 1').to.equal('open 1');
    expect(await second.exited).to.equal(0);
  });
});

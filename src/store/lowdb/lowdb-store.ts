// The default invite store: a lowdb JSON snapshot plus an append-only journal of
// the changes since, owned by one writer (see writer-lock.ts). Reads come from
// in-memory indexes kept in list order, so a page costs a binary search, not a
// scan. A change costs one journal line, not a rewrite of the whole file; the
// snapshot is rewritten off the hot path once the journal has grown
// (compaction). docs/store.md has the file layout and the crash cases.
import { open, readdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Low } from 'lowdb';
import type { Invite, Role } from '../../invites/types.js';
import { type Changed, type InviteStore, type Page, type PageQuery, type StoreStats, cursorOf, isAfter, isOpen, parseCursor } from '../store.js';
import { log } from '../../log.js';
import { ensurePrivateDir } from '../../private-files.js';
import { StoreCorruptError } from '../corrupt.js';
import { WriterLock } from './writer-lock.js';
import { syncDirOf, yieldToLoop } from './fs-sync.js';
import { Journal, readJournal } from './journal.js';
import { SnapshotFile, type StoreData } from './snapshot-file.js';

export { StoreCorruptError } from '../corrupt.js';
export type { StoreData } from './snapshot-file.js';

/** One journal line: the full new state of what changed, so replaying a line twice is harmless. */
type Entry =
  | { op: 'invite'; invite: Invite }
  | { op: 'roles'; jid: string; roles: Role[] }
  | { op: 'archived'; ids: string[] };

export interface StoreOptions {
  /**
   * fdatasync each journal write, so a shown invite survives a power cut too, not
   * only a killed process (which needs just the write). Default false: its cost
   * is the disk's, see docs/store.md.
   */
  fsync?: boolean;
  /** Compact once the journal reaches this many bytes. Default: the snapshot's size, at least 1 MiB. */
  compactAt?: number;
  /** For tests: called after each compaction step, where a crash image can be taken. */
  onCompactionStep?: (step: 'rotated' | 'snapshot-written') => Promise<void> | void;
}

/** Invites looked at per slice by long jobs (archive) before giving way. */
const SLICE = 2000;
const MIN_COMPACT_BYTES = 1 << 20;

const empty = (): StoreData => ({ version: 1, invites: [], roles: {} });

function isEntry(e: unknown): e is Entry {
  const x = e as Partial<Record<string, unknown>> | null;
  if (x?.op === 'invite') {
    const inv = x.invite as Partial<Invite> | undefined;
    return typeof inv?.id === 'string' && typeof inv.tokenHash === 'string' && Array.isArray(inv.uses);
  }
  if (x?.op === 'roles') return typeof x.jid === 'string' && Array.isArray(x.roles);
  if (x?.op === 'archived') return Array.isArray(x.ids);
  return false;
}

/** Apply journals, in order, to a snapshot's data. */
function replay(data: StoreData, journals: { path: string; lines: unknown[] }[]): StoreData {
  const invites = new Map(data.invites.map((i) => [i.id, i]));
  for (const { path, lines } of journals) {
    lines.forEach((e, n) => {
      if (!isEntry(e)) throw new StoreCorruptError(`${path} line ${n + 1} is not a store change; move it away or repair it`);
      if (e.op === 'invite') invites.set(e.invite.id, e.invite);
      else if (e.op === 'roles') data.roles[e.jid] = e.roles;
      else for (const id of e.ids) invites.delete(id);
    });
  }
  return { version: 1, invites: [...invites.values()], roles: data.roles };
}

export class LowdbStore implements InviteStore {
  readonly backend = 'lowdb';
  /** One writer: every hold not made by this process is from an earlier run. */
  readonly shared = false;
  private readonly byHash = new Map<string, Invite>();
  private readonly byId = new Map<string, Invite>();
  /** Per creator, in list order, so quotas and a creator's pages do not scan every invite. */
  private readonly byCreator = new Map<string, Invite[]>();
  /** Ids of invites with a pending use. */
  private readonly pending = new Set<string>();
  /** The change of each invite being written: the next one waits for it. */
  private readonly changing = new Map<string, Promise<unknown>>();
  private compacting: Promise<void> | null = null;
  private archiving: Promise<number> | null = null;
  /** A journal moved aside by a compaction that has not finished. */
  private rotatedPending = false;
  /**
   * Set while archive() takes invites out: a snapshot taken then could still hold
   * invites whose removal lines a rotation would move into the deleted journal.
   */
  private removing: Promise<void> | null = null;
  private closing?: Promise<void>;
  private openSeconds = 0;
  private lastCompactionSeconds?: number;

  private constructor(
    private readonly db: Low<StoreData>,
    private readonly snapshot: SnapshotFile,
    private journal: Journal,
    readonly file: string,
    private readonly opts: StoreOptions,
    private readonly lock: WriterLock,
  ) {
    // db.data.invites is the list of every invite, in list order (creation time, then id).
    if (!inOrder(db.data.invites)) db.data.invites.sort(byListOrder);
    for (const inv of db.data.invites) this.index(inv);
  }

  private static paths(file: string) {
    return { journal: `${file}.journal`, rotated: `${file}.journal.old` };
  }

  /** The archive of ended invites, one file per month (UTC) of archiving, so old months can be let go whole. */
  static archivePath(file: string, at: Date): string {
    return file.replace(/(\.json)?$/, `.archive-${at.toISOString().slice(0, 7)}.jsonl`);
  }

  /**
   * Delete the archive files of months that ended more than `keepDays` days before
   * `now` (the month an invite was archived in counts), and the single archive file
   * of earlier versions once it has not been written for that long. Returns their names.
   */
  async pruneArchives(keepDays: number, now: Date): Promise<string[]> {
    const dir = dirname(this.file);
    const stem = basename(this.file).replace(/(\.json)?$/, '');
    const cutoff = now.getTime() - keepDays * 86_400_000;
    const gone: string[] = [];
    for (const name of await readdir(dir)) {
      const month = new RegExp(`^${escapeRegExp(stem)}\\.archive-(\\d{4})-(\\d{2})\\.jsonl$`).exec(name);
      const legacy = name === `${stem}.archive.jsonl`;
      if (!month && !legacy) continue;
      const path = join(dir, name);
      const endedAt = month ? Date.UTC(Number(month[1]), Number(month[2]), 1) : (await stat(path)).mtimeMs;
      if (endedAt < cutoff) {
        await unlink(path).catch(ignoreMissing);
        gone.push(name);
      }
    }
    return gone;
  }

  /** Open the store, taking its writer lock (StoreLockedError while another process, or another open store, has it). */
  static async open(file: string, opts: StoreOptions = {}): Promise<LowdbStore> {
    const started = performance.now();
    ensurePrivateDir(dirname(file));
    const lock = await WriterLock.acquire(file);
    try {
      const store = await LowdbStore.openLocked(file, opts, lock);
      store.openSeconds = (performance.now() - started) / 1000;
      return store;
    } catch (e) {
      await lock.release();
      throw e;
    }
  }

  private static async openLocked(file: string, opts: StoreOptions, lock: WriterLock): Promise<LowdbStore> {
    const paths = LowdbStore.paths(file);
    const snapshot = new SnapshotFile(file);
    const db = new Low<StoreData>(snapshot, empty());
    await db.read();
    // A journal moved aside by an unfinished compaction comes first, then the live one.
    const journals = [];
    let live = 0;
    for (const path of [paths.rotated, paths.journal]) {
      const read = await readJournal(path);
      if (read?.torn) {
        log.warn(`${path}: its last line was cut short (${read.tornBytes} bytes) and is dropped: a write that was never acknowledged (a crash while writing)`);
      }
      if (read) journals.push({ path, lines: read.lines });
      if (read && path === paths.journal) live = read.wholeBytes;
    }
    const rotated = journals.some((j) => j.path === paths.rotated);
    if (journals.some((j) => j.lines.length > 0)) db.data = replay(db.data, journals);
    // Both journals stay as they are (replaying a line again is harmless) and writing goes on
    // after the live one's last whole line: start-up writes nothing the size of the snapshot.
    // The next compaction folds them in (a .journal.old first, as after a compaction that failed).
    const journal = await Journal.resume(paths.journal, opts.fsync ?? false, live);
    const store = new LowdbStore(db, snapshot, journal, file, opts, lock);
    store.rotatedPending = rotated;
    return store;
  }

  private index(inv: Invite): void {
    this.byHash.set(inv.tokenHash, inv);
    this.byId.set(inv.id, inv);
    let mine = this.byCreator.get(inv.createdBy);
    if (!mine) this.byCreator.set(inv.createdBy, (mine = []));
    insertInOrder(mine, inv);
    if (inv.uses.some((u) => u.pending)) this.pending.add(inv.id);
  }

  /** Put `next` where `prev` was, in every index. */
  private replace(prev: Invite, next: Invite): void {
    this.byHash.delete(prev.tokenHash);
    this.byHash.set(next.tokenHash, next);
    this.byId.set(next.id, next);
    const all = this.db.data.invites;
    all[positionOf(all, prev)] = next;
    const mine = this.byCreator.get(prev.createdBy)!;
    mine[positionOf(mine, prev)] = next;
    if (next.uses.some((u) => u.pending)) this.pending.add(next.id);
    else this.pending.delete(next.id);
  }

  private unindex(inv: Invite): void {
    this.byHash.delete(inv.tokenHash);
    this.byId.delete(inv.id);
    this.pending.delete(inv.id);
  }

  /** Every live invite, in list order (tests and tools; the service pages). */
  all(): readonly Invite[] {
    return this.db.data.invites;
  }

  get(id: string): Promise<Invite | undefined> {
    return Promise.resolve(this.byId.get(id));
  }

  findByHash(hash: string): Promise<Invite | undefined> {
    return Promise.resolve(this.byHash.get(hash));
  }

  createdBy(creator: string): Promise<Invite[]> {
    return Promise.resolve((this.byCreator.get(creator) ?? []).slice());
  }

  async page(q: PageQuery): Promise<Page> {
    const list = q.createdBy === undefined ? this.db.data.invites : this.byCreator.get(q.createdBy) ?? [];
    const after = parseCursor(q.after);
    const invites: Invite[] = [];
    let i = after ? firstAfter(list, after) : 0;
    // One more than asked tells whether there is a next page. Ended invites stay in the
    // list until archived (a day): passing over many gives way now and then.
    for (let seen = 0; i < list.length && invites.length <= q.limit; i++) {
      if (isOpen(list[i]!, q.openAt)) invites.push(list[i]!);
      if (++seen % SLICE === 0) await yieldToLoop();
    }
    if (invites.length <= q.limit) return { invites };
    invites.pop();
    return { invites, next: cursorOf(invites.at(-1)!) };
  }

  withPendingUses(): Promise<Invite[]> {
    return Promise.resolve([...this.pending].map((id) => this.byId.get(id)!));
  }

  roles(jid: string): readonly Role[] {
    return this.db.data.roles[jid] ?? [];
  }

  anyoneWithRole(role: Role): boolean {
    return Object.values(this.db.data.roles).some((r) => r.includes(role));
  }

  stats(): Promise<StoreStats> {
    return Promise.resolve({
      invites: this.byId.size,
      openSeconds: this.openSeconds,
      ...(this.lastCompactionSeconds === undefined ? {} : { lastCompactionSeconds: this.lastCompactionSeconds }),
    });
  }

  /**
   * Add an invite and persist it; resolves once it is on disk. It joins the store
   * (lists, quotas, the next snapshot) only then: a create that failed (a full disk)
   * leaves no ghost behind.
   */
  async add(inv: Invite): Promise<void> {
    if (this.byId.has(inv.id)) throw new Error(`invite ${inv.id} is already in the store`);
    await this.record({ op: 'invite', invite: inv });
    insertInOrder(this.db.data.invites, inv);
    this.index(inv);
  }

  /** Changes to one invite run one after another; each joins memory once its line is written. */
  change<T>(id: string, fn: (draft: Invite) => Changed<T>): Promise<{ invite: Invite; value: T } | undefined> {
    const run = async () => {
      const current = this.byId.get(id);
      if (!current) return undefined;
      const draft = structuredClone(current);
      const { write, value } = fn(draft);
      if (!write) return { invite: current, value };
      if (draft.id !== current.id || draft.createdAt !== current.createdAt || draft.createdBy !== current.createdBy || draft.tokenHash !== current.tokenHash) {
        throw new Error(`invite ${id}: a change may not alter its id, creator, creation time or token`);
      }
      await this.record({ op: 'invite', invite: draft });
      // archive() leaves invites being changed alone, so it is still here.
      this.replace(current, draft);
      return { invite: draft, value };
    };
    // A lone change runs its check and queues its write at once, in the caller's turn.
    return this.serially(id, run);
  }

  /** Run `job` after the one running under `key`, if any; the next under `key` waits for it. */
  private serially<T>(key: string, job: () => Promise<T>): Promise<T> {
    const before = this.changing.get(key);
    const p = before ? before.catch(() => {}).then(job) : job();
    this.changing.set(key, p);
    void p.finally(() => { if (this.changing.get(key) === p) this.changing.delete(key); }).catch(() => {});
    return p;
  }

  grantRoles(jid: string, roles: readonly Role[]): Promise<void> {
    // One account's grants one after another, each from the last: a line holds the whole set.
    return this.serially(`roles ${jid}`, async () => {
      const have = new Set(this.db.data.roles[jid] ?? []);
      for (const r of roles) have.add(r);
      // Written first: a role not on disk is not granted.
      await this.record({ op: 'roles', jid, roles: [...have] });
      this.db.data.roles[jid] = [...have];
    });
  }

  private record(entry: Entry): Promise<void> {
    // Serialised now, so the line holds the state at the time of the call.
    const written = this.journal.append(JSON.stringify(entry));
    void written.then(() => {
      const at = this.opts.compactAt ?? Math.max(MIN_COMPACT_BYTES, this.snapshot.bytes);
      if (this.journal.bytes >= at) this.compact().catch(() => {
        // Left for the next trigger or flush(), which reports it; the journal still holds every change.
      });
    }, () => {});
    return written;
  }

  /** The compaction running now, if any. */
  get compaction(): Promise<void> | null {
    return this.compacting;
  }

  /**
   * Rewrite the snapshot with every change so far and drop the journal lines it
   * covers. Writers carry on meanwhile, into a fresh journal. Crash-safe at each
   * step: (1) journal renamed to .journal.old, (2) snapshot written to a temp
   * file, synced, renamed over the old one, (3) .journal.old deleted. Start-up
   * replays .journal.old then .journal over whichever snapshot it finds.
   */
  compact(): Promise<void> {
    this.compacting ??= this.runCompaction().finally(() => { this.compacting = null; });
    return this.compacting;
  }

  private async runCompaction(): Promise<void> {
    const { rotated } = LowdbStore.paths(this.file);
    while (this.removing) await this.removing;
    // A .journal.old left by a compaction that failed is still needed: keep it, write the snapshot.
    if (!this.rotatedPending) this.rotatedPending = await this.journal.rotate(rotated);
    if (!this.rotatedPending) return;
    const started = performance.now();
    await this.opts.onCompactionStep?.('rotated');
    await this.db.write();
    await this.opts.onCompactionStep?.('snapshot-written');
    await unlink(rotated).catch(ignoreMissing);
    this.rotatedPending = false;
    this.lastCompactionSeconds = (performance.now() - started) / 1000;
  }

  /**
   * Move invites that ended (used up, expired or revoked: for good) out of the
   * live store into an append-only JSON-lines archive beside it, so the snapshot
   * only grows with invites that can still matter. Works in slices so creators
   * are not held up. A crash after the archive append leaves a duplicate archive
   * line, never a lost invite.
   */
  archive(isEnded: (inv: Invite) => boolean): Promise<number> {
    this.archiving ??= this.runArchive(isEnded).finally(() => { this.archiving = null; });
    return this.archiving;
  }

  private async runArchive(isEnded: (inv: Invite) => boolean): Promise<number> {
    const seen = this.db.data.invites.slice();
    const ended: Invite[] = [];
    for (let i = 0; i < seen.length; i += SLICE) {
      for (const inv of seen.slice(i, i + SLICE)) if (isEnded(inv) && !this.changing.has(inv.id)) ended.push(inv);
      await yieldToLoop();
    }
    if (ended.length === 0) return 0;

    const fh = await open(LowdbStore.archivePath(this.file, new Date()), 'a', 0o600);
    try {
      for (let i = 0; i < ended.length; i += SLICE) {
        await fh.write(ended.slice(i, i + SLICE).map((inv) => JSON.stringify(inv) + '\n').join(''));
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await syncDirOf(this.file);

    // Out of the indexes first, so change() finds them gone from now on and no journal
    // line about them can follow their removal line.
    let done!: () => void;
    this.removing = new Promise<void>((r) => { done = r; });
    const removals: Promise<void>[] = [];
    const gone = new Set<string>();
    try {
      for (let i = 0; i < ended.length; i += SLICE) {
        // Only those still as they were scanned: one changed since is not known to have ended.
        const part = ended.slice(i, i + SLICE).filter((inv) => this.byId.get(inv.id) === inv && !this.changing.has(inv.id));
        for (const inv of part) {
          this.unindex(inv);
          gone.add(inv.id);
        }
        if (part.length) removals.push(this.record({ op: 'archived', ids: part.map((inv) => inv.id) }));
        await yieldToLoop();
      }
      this.db.data.invites = this.db.data.invites.filter((inv) => !gone.has(inv.id));
      for (const [creator, mine] of this.byCreator) {
        const kept = mine.filter((inv) => !gone.has(inv.id));
        if (kept.length) this.byCreator.set(creator, kept);
        else this.byCreator.delete(creator);
      }
    } finally {
      this.removing = null;
      done();
    }
    await Promise.all(removals);
    await this.compactAfterNow();
    return gone.size;
  }

  /** Wait for every change asked for so far, and fold it into the snapshot file. */
  async flush(): Promise<void> {
    await Promise.all([...this.changing.values()].map((p) => p.catch(() => {})));
    await this.journal.settle();
    await this.compactAfterNow();
  }

  /** A compaction that covers every change made so far (one running may have started before them). */
  private async compactAfterNow(): Promise<void> {
    await this.compacting?.catch(() => {});
    await this.compact();
  }

  /** Flush, then let go of the journal file. The store cannot be written after. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.archiving?.catch(() => {});
      try {
        await this.flush(); // a failure is reported; the journal still holds every change
      } finally {
        await this.journal.close().catch(() => {});
        await this.lock.release();
      }
    })();
    return this.closing;
  }
}

/** Lists are kept in creation order, then id: the order of pages. */
function byListOrder(a: Invite, b: Invite): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function inOrder(list: readonly Invite[]): boolean {
  for (let i = 1; i < list.length; i++) if (byListOrder(list[i - 1]!, list[i]!) > 0) return false;
  return true;
}

/** Index of the first invite after `pos` (binary search). */
function firstAfter(list: readonly Invite[], pos: { createdAt: string; id: string }): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (isAfter(list[mid]!, pos)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Where `inv` (or an invite with its id and creation time) is in `list`. */
function positionOf(list: readonly Invite[], inv: Invite): number {
  const i = firstAfter(list, { createdAt: inv.createdAt, id: inv.id }) - 1;
  if (list[i]?.id !== inv.id) throw new Error(`invite ${inv.id} is not where the list order puts it`);
  return i;
}

/** New invites come last in all but clock-step cases: a push, else a splice at their place. */
function insertInOrder(list: Invite[], inv: Invite): void {
  const last = list.at(-1);
  if (!last || byListOrder(last, inv) < 0) list.push(inv);
  else list.splice(firstAfter(list, { createdAt: inv.createdAt, id: inv.id }), 0, inv);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function ignoreMissing(e: NodeJS.ErrnoException): void {
  if (e.code !== 'ENOENT') throw e;
}

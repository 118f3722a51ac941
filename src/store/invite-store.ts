// The invite store: a lowdb JSON snapshot plus an append-only journal of the
// changes since, owned by one writer (see writer-lock.ts). Reads come from
// in-memory indexes. A change costs one journal line, not a rewrite of the whole
// file; the snapshot is rewritten off the hot path once the journal has grown
// (compaction). docs/store.md has the file layout and the crash cases.
import { open, readdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Low } from 'lowdb';
import type { Invite, Role } from '../invites/types.js';
import { log } from '../log.js';
import { ensurePrivateDir } from '../private-files.js';
import { StoreCorruptError } from './corrupt.js';
import { WriterLock } from './writer-lock.js';
import { syncDirOf, yieldToLoop } from './fs-sync.js';
import { Journal, readJournal } from './journal.js';
import { SnapshotFile, type StoreData } from './snapshot-file.js';

export { StoreCorruptError } from './corrupt.js';
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

export class InviteStore {
  private readonly byHash = new Map<string, Invite>();
  private readonly byId = new Map<string, Invite>();
  /** Per creator, so a user's quota check does not scan every invite. */
  private readonly byCreator = new Map<string, Set<Invite>>();
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

  private constructor(
    private readonly db: Low<StoreData>,
    private readonly snapshot: SnapshotFile,
    private journal: Journal,
    readonly file: string,
    private readonly opts: StoreOptions,
    private readonly lock: WriterLock,
  ) {
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
  static async open(file: string, opts: StoreOptions = {}): Promise<InviteStore> {
    ensurePrivateDir(dirname(file));
    const lock = await WriterLock.acquire(file);
    try {
      return await InviteStore.openLocked(file, opts, lock);
    } catch (e) {
      await lock.release();
      throw e;
    }
  }

  private static async openLocked(file: string, opts: StoreOptions, lock: WriterLock): Promise<InviteStore> {
    const paths = InviteStore.paths(file);
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
    const store = new InviteStore(db, snapshot, journal, file, opts, lock);
    store.rotatedPending = rotated;
    return store;
  }

  private index(inv: Invite): void {
    this.byHash.set(inv.tokenHash, inv);
    this.byId.set(inv.id, inv);
    let mine = this.byCreator.get(inv.createdBy);
    if (!mine) this.byCreator.set(inv.createdBy, (mine = new Set()));
    mine.add(inv);
  }

  private unindex(inv: Invite): void {
    this.byHash.delete(inv.tokenHash);
    this.byId.delete(inv.id);
    const mine = this.byCreator.get(inv.createdBy);
    mine?.delete(inv);
    if (mine?.size === 0) this.byCreator.delete(inv.createdBy);
  }

  get(id: string): Invite | undefined {
    return this.byId.get(id);
  }

  findByHash(hash: string): Invite | undefined {
    return this.byHash.get(hash);
  }

  all(): readonly Invite[] {
    return this.db.data.invites;
  }

  /** The invites `creator` made (a bare JID, "cli" or "first-run"), oldest first. */
  createdBy(creator: string): Invite[] {
    return [...(this.byCreator.get(creator) ?? [])];
  }

  roles(jid: string): readonly Role[] {
    return this.db.data.roles[jid] ?? [];
  }

  anyoneWithRole(role: Role): boolean {
    return Object.values(this.db.data.roles).some((r) => r.includes(role));
  }

  /**
   * Add an invite and persist it; resolves once it is on disk. It joins the store
   * (lists, quotas, the next snapshot) only then: a create that failed (a full disk)
   * leaves no ghost behind.
   */
  async add(inv: Invite): Promise<void> {
    await this.record({ op: 'invite', invite: inv });
    this.db.data.invites.push(inv);
    this.index(inv);
  }

  /** Persist an invite changed in place (a use, a revocation); resolves once it is on disk. */
  update(inv: Invite): Promise<void> {
    if (this.byId.get(inv.id) !== inv) return Promise.reject(new Error(`invite ${inv.id} is not in the store`));
    return this.record({ op: 'invite', invite: inv });
  }

  async grantRoles(jid: string, roles: readonly Role[]): Promise<void> {
    const before = this.db.data.roles[jid];
    const have = new Set(before ?? []);
    for (const r of roles) have.add(r);
    this.db.data.roles[jid] = [...have];
    try {
      await this.record({ op: 'roles', jid, roles: [...have] });
    } catch (e) {
      // Not written: not granted.
      if (before) this.db.data.roles[jid] = before;
      else delete this.db.data.roles[jid];
      throw e;
    }
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
    const { rotated } = InviteStore.paths(this.file);
    while (this.removing) await this.removing;
    // A .journal.old left by a compaction that failed is still needed: keep it, write the snapshot.
    if (!this.rotatedPending) this.rotatedPending = await this.journal.rotate(rotated);
    if (!this.rotatedPending) return;
    await this.opts.onCompactionStep?.('rotated');
    await this.db.write();
    await this.opts.onCompactionStep?.('snapshot-written');
    await unlink(rotated).catch(ignoreMissing);
    this.rotatedPending = false;
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
    const kept: Invite[] = [];
    for (let i = 0; i < seen.length; i += SLICE) {
      for (const inv of seen.slice(i, i + SLICE)) (isEnded(inv) ? ended : kept).push(inv);
      await yieldToLoop();
    }
    if (ended.length === 0) return 0;

    const fh = await open(InviteStore.archivePath(this.file, new Date()), 'a', 0o600);
    try {
      for (let i = 0; i < ended.length; i += SLICE) {
        await fh.write(ended.slice(i, i + SLICE).map((inv) => JSON.stringify(inv) + '\n').join(''));
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await syncDirOf(this.file);

    // Out of the indexes first, so update() refuses them from now on and no journal
    // line about them can follow their removal line.
    let done!: () => void;
    this.removing = new Promise<void>((r) => { done = r; });
    const removals: Promise<void>[] = [];
    try {
      for (let i = 0; i < ended.length; i += SLICE) {
        const part = ended.slice(i, i + SLICE);
        for (const inv of part) this.unindex(inv);
        removals.push(this.record({ op: 'archived', ids: part.map((inv) => inv.id) }));
        await yieldToLoop();
      }
      // Only archive() removes invites, so the ones added since the scan are the array's tail.
      this.db.data.invites = kept.concat(this.db.data.invites.slice(seen.length));
    } finally {
      this.removing = null;
      done();
    }
    await Promise.all(removals);
    await this.compactAfterNow();
    return ended.length;
  }

  /** Wait for every change asked for so far, and fold it into the snapshot file. */
  async flush(): Promise<void> {
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

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function ignoreMissing(e: NodeJS.ErrnoException): void {
  if (e.code !== 'ENOENT') throw e;
}

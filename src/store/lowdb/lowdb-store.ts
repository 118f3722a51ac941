// The default invite store: a JSON snapshot (the document lowdb reads, one invite a
// line) plus an append-only journal of the changes since, owned by one writer (see
// writer-lock.ts). In memory the invites are columns (invite-table.ts), with
// indexes kept in list order, so a page costs a binary search, not a scan. A
// change costs one journal line, not a rewrite of the whole file; the snapshot is
// rewritten off the hot path once the journal has grown (compaction). Start-up
// streams both files and gives way to the event loop as it goes. docs/store.md has
// the file layout, the memory layout and the crash cases.
import { open, readdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Invite, Role } from '../../invites/types.js';
import { type Changed, type DocChanged, type DocName, type InviteStore, type Page, type PageQuery, type StoreStats, cursorOf, parseCursor } from '../store.js';
import { KeyedQueue } from '../keyed-queue.js';
import { log } from '../../log.js';
import { ensurePrivateDir } from '../../private-files.js';
import { StoreCorruptError } from '../corrupt.js';
import { WriterLock } from './writer-lock.js';
import { syncDirOf, yieldToLoop } from './fs-sync.js';
import { InviteTable, inviteJson, isInvite } from './invite-table.js';
import { Journal, readJournal } from './journal.js';
import { DocumentFile } from './documents.js';
import { Pacer } from './lines.js';
import { SnapshotFile } from './snapshot-file.js';

export { StoreCorruptError } from '../corrupt.js';

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

function isEntry(e: unknown): e is Entry {
  const x = e as Partial<Record<string, unknown>> | null;
  if (x?.op === 'invite') return isInvite(x.invite);
  if (x?.op === 'roles') return typeof x.jid === 'string' && Array.isArray(x.roles);
  if (x?.op === 'archived') return Array.isArray(x.ids);
  return false;
}

/** `{"op":"invite","invite":` opening the journal line of an invite's new state. */
const INVITE_LINE = Buffer.from('{"op":"invite","invite":');

/** Whether `buf[start..end)` is `{"op":"invite","invite":{…}}`. */
function isInviteLine(buf: Buffer, start: number, end: number): boolean {
  if (end - start < INVITE_LINE.length + 3 || buf[end - 1] !== 125 || buf[end - 2] !== 125) return false;
  return buf.compare(INVITE_LINE, 0, INVITE_LINE.length, start, start + INVITE_LINE.length) === 0;
}

export class LowdbStore implements InviteStore {
  readonly backend = 'lowdb';
  /** One writer: every hold not made by this process is from an earlier run. */
  readonly shared = false;
  /** Every live invite, with its indexes (by id, by token hash, in list order, per creator, with a pending use). */
  private readonly table: InviteTable;
  /** Roles granted by invites (e.g. accounts created from an admin invite). */
  private roles_: Record<string, Role[]>;
  /** The change of each invite being written: the next one waits for it. */
  private readonly changing = new KeyedQueue();
  private compacting: Promise<void> | null = null;
  private archiving: Promise<number> | null = null;
  /** A journal moved aside by a compaction that has not finished. */
  private rotatedPending = false;
  /** The snapshot read was in the single-document format of earlier versions. */
  private legacySnapshot = false;
  /**
   * Set while archive() takes invites out: a snapshot taken then could still hold
   * invites whose removal lines a rotation would move into the deleted journal.
   */
  private removing: Promise<void> | null = null;
  private closing?: Promise<void>;
  private openSeconds = 0;
  private lastCompactionSeconds?: number;

  /** Slots changed while an archive runs: it leaves those alone (they may not have ended any more). */
  private touched: Set<number> | null = null;

  private constructor(
    loaded: { table: InviteTable; roles: Record<string, Role[]> },
    private readonly snapshot: SnapshotFile,
    private journal: Journal,
    readonly file: string,
    private readonly opts: StoreOptions,
    private readonly lock: WriterLock,
    private readonly docs: DocumentFile,
  ) {
    this.table = loaded.table;
    this.roles_ = loaded.roles;
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
    const table = new InviteTable();
    // Everything is appended as read, the indexes left for after the snapshot; invites out of list order are merged in at the end.
    table.beginBulk(0, true);
    const read = await snapshot.read(table);
    const roles: Record<string, Role[]> = read?.roles ?? {};
    // Then the indexes, at once and in order (the journals look invites up by id).
    const pacer = new Pacer();
    await table.buildIndexes(() => pacer.due());
    // A journal moved aside by an unfinished compaction comes first, then the live one.
    let live = { bytes: 0, unterminated: false };
    let rotated = false;
    for (const path of [paths.rotated, paths.journal]) {
      const journal = await readJournal(path, (buf, start, end, n) => {
        // The common line, an invite's new state, goes straight into the columns.
        if (isInviteLine(buf, start, end) && table.loadCanonical(buf, start + INVITE_LINE.length, end - 2)) return;
        const e: unknown = JSON.parse(buf.toString('utf8', start, end));
        if (!isEntry(e)) throw new StoreCorruptError(`${path} line ${n} is not a store change; move it away or repair it`);
        if (e.op === 'invite') table.set(e.invite);
        else if (e.op === 'roles') roles[e.jid] = e.roles;
        else for (const id of e.ids) {
          const slot = table.slotOf(id);
          if (slot >= 0) table.remove(slot);
        }
      });
      if (journal?.torn) {
        log.warn(`${path}: its last line was cut short (${journal.tornBytes} bytes) and is dropped: a write that was never acknowledged (a crash while writing)`);
      }
      if (journal && path === paths.rotated) rotated = true;
      if (journal && path === paths.journal) live = { bytes: journal.wholeBytes, unterminated: journal.unterminated };
    }
    await table.endBulk(() => pacer.due());
    // Both journals stay as they are (replaying a line again is harmless) and writing goes on
    // after the live one's last whole line: start-up writes nothing the size of the snapshot.
    // The next compaction folds them in (a .journal.old first, as after a compaction that failed).
    const journal = await Journal.resume(paths.journal, opts.fsync ?? false, live.bytes, live.unterminated);
    const docs = await DocumentFile.open(file);
    const store = new LowdbStore({ table, roles }, snapshot, journal, file, opts, lock, docs);
    store.rotatedPending = rotated;
    store.legacySnapshot = read?.legacy ?? false;
    return store;
  }

  /** Every live invite, in list order (tests and tools; the service pages). */
  all(): readonly Invite[] {
    const { order } = this.table;
    return Array.from(order.a.subarray(0, order.n), (slot) => this.table.invite(slot));
  }

  get(id: string): Promise<Invite | undefined> {
    const slot = this.table.slotOf(id);
    return Promise.resolve(slot < 0 ? undefined : this.table.invite(slot));
  }

  findByHash(hash: string): Promise<Invite | undefined> {
    const slot = this.table.slotOfHash(hash);
    return Promise.resolve(slot < 0 ? undefined : this.table.invite(slot));
  }

  createdBy(creator: string): Promise<Invite[]> {
    const list = this.table.creatorList(creator);
    return Promise.resolve(list ? Array.from(list.a.subarray(0, list.n), (slot) => this.table.invite(slot)) : []);
  }

  async page(q: PageQuery): Promise<Page> {
    const list = q.createdBy === undefined ? this.table.order : this.table.creatorList(q.createdBy);
    if (!list) return { invites: [] };
    const after = parseCursor(q.after);
    const invites: Invite[] = [];
    const at = q.openAt.getTime();
    let i = after ? this.table.firstAfter(list, after.createdAt, after.id) : 0;
    // One more than asked tells whether there is a next page. Ended invites stay in the
    // list until archived (a day): passing over many gives way now and then.
    for (let seen = 0; i < list.n && invites.length <= q.limit; i++) {
      if (q.ended || this.table.isOpen(list.a[i]!, at)) invites.push(this.table.invite(list.a[i]!));
      if (++seen % SLICE === 0) {
        // The list may change meanwhile (an archive): find our place again after the last one looked at,
        // not the last one kept (a run of ended invites longer than a slice would be scanned forever).
        const looked = this.table.invite(list.a[i]!);
        await yieldToLoop();
        i = this.table.firstAfter(list, looked.createdAt, looked.id) - 1;
      }
    }
    if (invites.length <= q.limit) return { invites };
    invites.pop();
    return { invites, next: cursorOf(invites.at(-1)!) };
  }

  withPendingUses(): Promise<Invite[]> {
    return Promise.resolve([...this.table.pending].map((slot) => this.table.invite(slot)));
  }

  roles(jid: string): readonly Role[] {
    return this.roles_[jid] ?? [];
  }

  anyoneWithRole(role: Role): boolean {
    return Object.values(this.roles_).some((r) => r.includes(role));
  }

  stats(): Promise<StoreStats> {
    return Promise.resolve({
      invites: this.table.size,
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
    if (this.table.slotOf(inv.id) >= 0) throw new Error(`invite ${inv.id} is already in the store`);
    await this.record({ op: 'invite', invite: inv });
    const slot = this.table.set(inv);
    this.touched?.add(slot);
  }

  /** Changes to one invite run one after another; each joins memory once its line is written. */
  change<T>(id: string, fn: (draft: Invite) => Changed<T>): Promise<{ invite: Invite; value: T } | undefined> {
    const run = async () => {
      const slot = this.table.slotOf(id);
      if (slot < 0) return undefined;
      // Each a fresh copy: nothing the caller does to either changes the store.
      const current = this.table.invite(slot);
      const draft = this.table.invite(slot);
      const { write, value } = fn(draft);
      if (!write) return { invite: current, value };
      if (draft.id !== current.id || draft.createdAt !== current.createdAt || draft.createdBy !== current.createdBy || draft.tokenHash !== current.tokenHash) {
        throw new Error(`invite ${id}: a change may not alter its id, creator, creation time or token`);
      }
      await this.record({ op: 'invite', invite: draft });
      // archive() leaves invites being changed alone, so it is still here.
      const stored = this.table.set(draft);
      this.touched?.add(stored);
      return { invite: draft, value };
    };
    // A lone change runs its check and queues its write at once, in the caller's turn.
    return this.changing.run(id, run);
  }

  grantRoles(jid: string, roles: readonly Role[]): Promise<void> {
    // One account's grants one after another, each from the last: a line holds the whole set.
    return this.changing.run(`roles ${jid}`, async () => {
      const have = new Set(this.roles_[jid] ?? []);
      for (const r of roles) have.add(r);
      // Written first: a role not on disk is not granted.
      await this.record({ op: 'roles', jid, roles: [...have] });
      this.roles_[jid] = [...have];
    });
  }

  private record(entry: Entry): Promise<void> {
    // Serialised now, so the line holds the state at the time of the call; an invite's
    // fields in the order start-up reads fastest.
    const json = entry.op === 'invite' ? `{"op":"invite","invite":${inviteJson(entry.invite)}}` : JSON.stringify(entry);
    const written = this.journal.append(json);
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
    // A snapshot in the format of earlier versions is rewritten in lines even with nothing new.
    if (!this.rotatedPending && !this.legacySnapshot) return;
    const started = performance.now();
    await this.opts.onCompactionStep?.('rotated');
    // The list as it is now; slots freed meanwhile (an archive) are not reused until it is written.
    const slots = this.table.order.copy();
    this.table.hold();
    try {
      await this.snapshot.write(slots.length, (i) => (this.table.isLive(slots[i]!) ? this.table.inviteJson(slots[i]!) : undefined), structuredClone(this.roles_));
    } finally {
      this.table.release();
    }
    await this.opts.onCompactionStep?.('snapshot-written');
    await unlink(rotated).catch(ignoreMissing);
    this.rotatedPending = false;
    this.legacySnapshot = false;
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
    const seen = this.table.order.copy();
    // Invites changed from now on may no longer have ended: they stay.
    const touched = (this.touched = new Set<number>());
    let ended: number[] = [];
    let endedInvites: Invite[] = [];
    try {
      for (let i = 0; i < seen.length; i += SLICE) {
        for (const slot of seen.subarray(i, i + SLICE)) {
          if (touched.has(slot) || !this.table.isLive(slot)) continue;
          const inv = this.table.invite(slot);
          if (isEnded(inv) && !this.changing.has(inv.id)) {
            ended.push(slot);
            endedInvites.push(inv);
          }
        }
        await yieldToLoop();
      }
      if (ended.length === 0) return 0;

      const fh = await open(LowdbStore.archivePath(this.file, new Date()), 'a', 0o600);
      try {
        for (let i = 0; i < endedInvites.length; i += SLICE) {
          await fh.write(endedInvites.slice(i, i + SLICE).map((inv) => JSON.stringify(inv) + '\n').join(''));
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      await syncDirOf(this.file);
      endedInvites = [];

      // Out of the indexes first, so change() finds them gone from now on and no journal
      // line about them can follow their removal line.
      let done!: () => void;
      this.removing = new Promise<void>((r) => { done = r; });
      const removals: Promise<void>[] = [];
      let gone = 0;
      try {
        for (let i = 0; i < ended.length; i += SLICE) {
          // Only those still as they were scanned: one changed since is not known to have ended.
          const part = ended.slice(i, i + SLICE).filter((slot) => this.table.isLive(slot) && !touched.has(slot)
            && !this.changing.has(this.table.invite(slot).id));
          if (part.length) {
            const ids = part.map((slot) => this.table.invite(slot).id);
            this.table.removeMany(part);
            gone += part.length;
            removals.push(this.record({ op: 'archived', ids }));
          }
          await yieldToLoop();
        }
      } finally {
        this.removing = null;
        done();
      }
      ended = [];
      await Promise.all(removals);
      await this.compactAfterNow();
      return gone;
    } finally {
      this.touched = null;
    }
  }

  async getDoc(name: DocName): Promise<unknown> {
    return this.docs.get(name);
  }

  changeDoc<T>(name: DocName, fn: (draft: unknown) => DocChanged<T>): Promise<T> {
    // One queue for every document: they share one file, so two changes must not write it at once.
    return this.changing.run('docs', async () => {
      const r = fn(this.docs.get(name));
      if (r.write) await this.docs.put(name, r.doc);
      return r.value;
    });
  }

  /** Wait for every change asked for so far, and fold it into the snapshot file. */
  async flush(): Promise<void> {
    await this.changing.settled();
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

// The store's append-only journal: one JSON line per change, beside the snapshot,
// each followed by a tab and its CRC-32, so a damaged block or a changed byte is
// found instead of read. A change is written (and fdatasync'ed when asked) before
// its promise resolves; changes queued while a write is in flight share the next
// write (group commit). Start-up reads it a chunk at a time (lines.ts).
import { constants, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { type FileHandle, open, rename } from 'node:fs/promises';
import { StoreCorruptError } from '../corrupt.js';
import { syncDirOf, yieldToLoop } from './fs-sync.js';
import { eachLine, openIfThere } from './lines.js';

export interface JournalRead {
  /** Whole lines read (a torn last line not counted). */
  lines: number;
  /** A last line cut short by a crash (no newline, not whole) was dropped. */
  torn: boolean;
  /** Its bytes, for the report. */
  tornBytes: number;
  /** Bytes of the whole lines: where writing goes on. */
  wholeBytes: number;
  /** The last line was whole but had no newline (a write cut just before it): one goes after it first. */
  unterminated: boolean;
}

/**
 * One line's JSON, `buf[start..end)` (its checksum already checked), numbered from 1.
 * The buffer is reused: copy what you keep. A StoreCorruptError it throws stops the
 * read as it is; any other error (JSON that does not parse) reads as a damaged line.
 */
export type OnJournalLine = (buf: Buffer, start: number, end: number, line: number) => void;

const checksum = (json: string) => crc32(json).toString(16).padStart(8, '0');

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX['0123456789abcdef'.charCodeAt(i)] = i;

class DamagedLine extends Error {}

/**
 * Where the JSON of the line `buf[start..end)` ends: checked against its CRC when it
 * has one (lines of earlier versions have none). Throws a sentence.
 */
function jsonEnd(buf: Buffer, start: number, end: number): number {
  const tab = end > start ? buf.lastIndexOf(9, end - 1) : -1;
  if (tab < start) return end;
  let sum = end - tab - 1 === 8 ? 0 : -1;
  for (let i = tab + 1; i < end && sum >= 0; i++) {
    const c = buf[i]!;
    const v = c < 128 ? HEX[c]! : -1;
    sum = v < 0 ? -1 : sum * 16 + v;
  }
  if (sum !== crc32(buf.subarray(start, tab))) throw new DamagedLine('its checksum does not match: a damaged block or a changed byte');
  return tab;
}

/**
 * Read a journal line by line, a chunk at a time, handing each line's JSON to
 * `onLine`; null when there is none. Every line ending in a newline must be whole:
 * anything else is corruption, not a crash. Only the part after the last newline
 * can be a write cut short by kill -9; it is dropped if it is not a whole line.
 */
export async function readJournal(path: string, onLine: OnJournalLine): Promise<JournalRead | null> {
  const fh = await openIfThere(path);
  if (!fh) return null;
  try {
    const read = await eachLine(fh, (buf, start, end, n) => {
      try {
        onLine(buf, start, jsonEnd(buf, start, end), n);
      } catch (e) {
        if (e instanceof StoreCorruptError) throw e;
        throw new StoreCorruptError(`${path} line ${n} is damaged (${(e as Error).message}). The store will not start over it: `
          + 'restore the file from a backup, or move it away to start from the snapshot alone (changes since the last compaction are then lost)');
      }
    });
    const last = read.tail;
    let torn = false;
    if (last.length) {
      try {
        onLine(last, 0, jsonEnd(last, 0, last.length), read.lines + 1);
      } catch (e) {
        if (e instanceof StoreCorruptError) throw e;
        torn = true;
      }
    }
    const tornBytes = torn ? last.length : 0;
    return {
      lines: read.lines + (last.length && !torn ? 1 : 0),
      torn,
      tornBytes,
      wholeBytes: read.wholeBytes + last.length - tornBytes,
      unterminated: last.length > 0 && !torn,
    };
  } finally {
    await fh.close();
  }
}

interface Batch {
  lines: string[];
  done: Promise<void>;
}

export class Journal {
  /** Bytes of whole lines on disk; the next write goes here. */
  private size = 0;
  private batch: Batch | null = null;
  /** Every write and rotation, in order. */
  private tail: Promise<unknown> = Promise.resolve();
  private broken?: Error;

  /** Whether the event loop has come round since the last unsynced write. */
  private loopTurned = true;

  private constructor(private fh: FileHandle, readonly path: string, private readonly fsync: boolean) {}

  /** Start an empty journal at `path`, replacing one whose contents are already in the snapshot. */
  static async create(path: string, fsync: boolean): Promise<Journal> {
    // No O_APPEND: writes are positional, so a failed partial write is overwritten by the next.
    const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
    if (fsync) await syncDirOf(path);
    return new Journal(fh, path, fsync);
  }

  /**
   * Go on writing the journal at `path` after its `wholeBytes` of whole lines (a torn
   * tail is cut off): start-up replays it and keeps it, instead of rewriting the
   * snapshot first, which needed free space the size of the snapshot.
   */
  static async resume(path: string, fsync: boolean, wholeBytes: number, unterminated = false): Promise<Journal> {
    const fh = await open(path, constants.O_WRONLY | constants.O_CREAT, 0o600);
    try {
      await fh.truncate(wholeBytes);
      // A whole last line without its newline: end it, or the next line would run on from it.
      if (unterminated) wholeBytes += (await fh.write('\n', wholeBytes)).bytesWritten;
      if (fsync) await syncDirOf(path);
    } catch (e) {
      await fh.close();
      throw e;
    }
    const journal = new Journal(fh, path, fsync);
    journal.size = wholeBytes;
    return journal;
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.size;
  }

  /** Append one line of JSON (no newline); resolves once it is written (and synced). */
  append(json: string): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    const line = `${json}\t${checksum(json)}\n`;
    if (!this.batch) {
      const batch: Batch = { lines: [], done: Promise.resolve() };
      batch.done = this.enqueue(() => {
        if (this.batch === batch) this.batch = null;
        return this.write(batch.lines);
      });
      this.batch = batch;
    }
    this.batch.lines.push(line);
    return this.batch.done;
  }

  /** Run `job` after every write queued so far; writes queued later wait for it. */
  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    this.batch = null;
    const p = this.tail.then(job, job);
    this.tail = p.catch(() => {});
    return p;
  }

  /**
   * An unsynced write never waits for I/O, so writers awaiting in a loop could
   * starve the event loop's I/O and timers (a compaction's among them). A write
   * that comes before the loop has turned since the previous one waits for a turn.
   * A write answering a request does not: it follows a socket read, so the loop
   * has turned, and the reply goes out at once.
   */
  private async giveWay(): Promise<void> {
    if (!this.loopTurned) await yieldToLoop();
    this.loopTurned = false;
    setImmediate(() => { this.loopTurned = true; });
  }

  private async write(lines: string[]): Promise<void> {
    if (this.broken) throw this.broken;
    const buf = Buffer.from(lines.join(''));
    try {
      for (let off = 0; off < buf.length;) {
        off += this.fsync
          ? (await this.fh.write(buf, off, buf.length - off, this.size + off)).bytesWritten
          // Unsynced, a line only goes to the page cache: a few microseconds in place,
          // where the thread pool's round trip would add to every answer's latency.
          : writeSync(this.fh.fd, buf, off, buf.length - off, this.size + off);
      }
      if (!this.fsync) await this.giveWay();
    } catch (e) {
      // Cut back to the last whole line, so no later line follows garbage.
      await this.fh.truncate(this.size).catch(() => { this.broken = e as Error; });
      throw e;
    }
    if (this.fsync) {
      // After a failed fsync the kernel may have dropped the pages: trust nothing more.
      try { await this.fh.datasync(); } catch (e) { this.broken = e as Error; throw e; }
    }
    this.size += buf.length;
  }

  /**
   * Move the journal's contents to `to` and carry on in an empty one: the start of
   * a compaction. Waits for the writes queued so far. False when there was nothing
   * to move.
   */
  rotate(to: string): Promise<boolean> {
    return this.enqueue(async () => {
      if (this.broken) throw this.broken;
      if (this.size === 0) return false;
      await rename(this.path, to);
      let fh: FileHandle;
      try {
        fh = await open(this.path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
        if (this.fsync) await syncDirOf(this.path);
      } catch (e) {
        // Put it back: lines written after this must never go to the file a compaction deletes.
        await rename(to, this.path).catch(() => { this.broken = e as Error; });
        throw e;
      }
      const old = this.fh;
      this.fh = fh;
      this.size = 0;
      await old.close();
      return true;
    });
  }

  /** Wait for every write queued so far. */
  async settle(): Promise<void> {
    await this.enqueue(async () => {});
  }

  async close(): Promise<void> {
    await this.enqueue(() => this.fh.close());
    this.broken ??= new Error(`${this.path} is closed`);
  }
}

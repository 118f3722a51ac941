// The snapshot: one JSON document of the store (still what lowdb would read, and
// what `jq` or JSON.parse read), laid out one invite per line so that it can be
// read a line at a time and every line carries its own CRC-32:
//
//   {"version":1,"layout":"lines","size":2,"roles":{…},"crc":"<crc of what comes before>","invites":[
//   {"id":"…",…,"expiresAt":"…","crc":"<crc of the line up to ,"crc">"}
//   ,{"id":"…",…,"crc":"…"}
//   ],"count":2}
//
// Written in slices to a temp file, synced as it goes and at the end, renamed over
// the old one, the directory synced: a crash leaves the old or the new file. Read
// a chunk at a time (lines.ts), never as one string, so neither a ceiling of V8's
// (the largest string, 2^29 characters) nor one long JSON.parse holds start-up up.
// The single-line document of earlier versions (`{"version":1,"invites":[…],"roles":{…}}`,
// any whitespace) is still read, streamed too, and the next compaction rewrites it.
import { readFileSync } from 'node:fs';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import type { Role } from '../../invites/types.js';
import { StoreCorruptError } from '../corrupt.js';
import { syncDirOf } from './fs-sync.js';
import { type InviteTable, loadInvite, type TablePart } from './invite-table.js';
import { eachLine, nextLineStart, openIfThere, Pacer } from './lines.js';

/**
 * One invite read from the snapshot: `buf[start..end)` is its JSON up to, not
 * including, its closing brace (a line's checksum, when it has one, already
 * checked). The buffer is reused: copy what you keep. Throws if it is no invite.
 */
export type OnInvite = (buf: Buffer, start: number, end: number) => void;

export interface SnapshotRead {
  roles: Record<string, Role[]>;
  invites: number;
  /** The single-document format of earlier versions. */
  legacy: boolean;
}

/** Bytes of the invites' lines gathered per write: a fraction of a millisecond of work, then the loop is free again. */
const WRITE_BYTES = 64 << 10;
/** Bytes written between syncs of the temp file: no one long flush at the end for the journal's syncs to queue behind. */
const SYNC_EVERY = 1 << 20;

const HEADER = '{"version":1,"layout":"lines",';
const HEADER_END = '","invites":['; // after the header's checksum
const CRC_FIELD = ',"crc":"';
/** `,"crc":"xxxxxxxx"}` closing an invite's line. */
const LINE_CRC = CRC_FIELD.length + 8 + 2;
const TRAILER = /^\],"count":(\d+)\}$/;

const hex = (n: number) => n.toString(16).padStart(8, '0');

const CRC_BYTES = Buffer.from(CRC_FIELD);
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX['0123456789abcdef'.charCodeAt(i)] = i;

/** Whether `buf[at..)` is `,"crc":"` and the CRC-32 of `buf[start..at)` in 8 hex digits. */
function crcOk(buf: Buffer, start: number, at: number): boolean {
  for (let i = 0; i < CRC_BYTES.length; i++) if (buf[at + i] !== CRC_BYTES[i]) return false;
  let sum = 0;
  for (let i = at + CRC_BYTES.length, end = i + 8; i < end; i++) {
    const c = buf[i]!;
    const v = c < 128 ? HEX[c]! : -1;
    if (v < 0) return false;
    sum = sum * 16 + v;
  }
  return sum === crc32(buf.subarray(start, at));
}

const BAD_SUM = 'its checksum does not match: a damaged block or a changed byte';

/** Snapshots from this size on are read by two threads, this thread the first SPLIT_AT of the bytes. */
const SPLIT_FROM = 32 << 20;
const SPLIT_AT = 0.56;

/** A line of a range that cannot be read: its number within the range, and why. */
export class LineFault extends Error {
  constructor(readonly line: number, why: string) {
    super(why);
  }
}

export interface RangeRead {
  /** Whole lines, invite lines among them. */
  lines: number;
  invites: number;
  /** The trailer, if the range holds it: its line and the count it gives. */
  trailer?: { line: number; count: number };
  /** Whether the range's first invite line began with a comma. */
  firstComma?: boolean;
  /** Bytes after the last newline (none in a whole file). */
  tail: number;
}

/**
 * Read the invite lines of a snapshot in lines from byte `from` to byte `to` (both at
 * line starts) into `table`, and the trailer if it comes. `comma`: whether the first
 * invite line must begin with a comma (undefined: either, reported). Throws LineFault.
 */
export async function readLineRange(fh: FileHandle, table: InviteTable, from: number, to: number, comma: boolean | undefined): Promise<RangeRead> {
  const r: RangeRead = { lines: 0, invites: 0, tail: 0 };
  const read = await eachLine(fh, (buf, start, end, n) => {
    if (r.trailer) throw new LineFault(n, 'it follows the end of the document');
    if (buf[start] === 93) { // ]
      const m = TRAILER.exec(buf.toString('latin1', start, end));
      if (!m) throw new LineFault(n, 'not the end of the invites');
      r.trailer = { line: n, count: Number(m[1]) };
      return;
    }
    let s = start;
    const has = buf[s] === 44; // ,
    if (r.invites === 0) r.firstComma = has;
    const wanted = r.invites > 0 ? true : comma;
    if (wanted !== undefined && has !== wanted) throw new LineFault(n, has ? 'a comma before the first invite' : 'no comma before it');
    if (has) s++;
    const at = end - LINE_CRC;
    if (at <= s || buf[end - 1] !== 125 || buf[end - 2] !== 34 || !crcOk(buf, s, at)) throw new LineFault(n, BAD_SUM);
    try {
      loadInvite(table, buf, s, at);
    } catch (e) {
      throw new LineFault(n, (e as Error).message);
    }
    r.invites++;
  }, from, to);
  r.lines = read.lines;
  r.tail = read.tail.length;
  return r;
}

interface WorkerAnswer {
  ok?: RangeRead;
  part?: TablePart;
  fault?: { line: number; why: string };
  fatal?: string;
}

/** tsx's module hooks, for a worker to register (they are not passed on to workers). */
function tsxHooks(): string {
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  const exports = (JSON.parse(readFileSync(pkg, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> }).exports;
  const rel = exports['./esm/api']?.import?.default;
  if (!rel) throw new Error('no tsx/esm/api');
  return pathToFileURL(join(dirname(pkg), rel)).href;
}

/**
 * Read the lines from `from` on in a second thread (snapshot-worker.ts), into a table
 * of its own; undefined when no thread can be started (then one thread reads it all).
 */
function readApart(path: string, from: number, size: number): { answer: Promise<WorkerAnswer>; stop: () => void } | undefined {
  let entry: string;
  let hooks = '';
  try {
    // Run by tsx (this file is .ts): the worker registers tsx's hooks first.
    const ts = import.meta.url.endsWith('.ts');
    entry = new URL(`./snapshot-worker.${ts ? 'ts' : 'js'}`, import.meta.url).href;
    if (ts) hooks = tsxHooks();
  } catch {
    return undefined;
  }
  const boot = `const { workerData, parentPort } = require('node:worker_threads');
(async () => { if (workerData.hooks) (await import(workerData.hooks)).register(); await import(workerData.entry); })()
  .catch((e) => parentPort.postMessage({ fatal: String((e && e.stack) || e) }));`;
  let w: Worker;
  try {
    w = new Worker(boot, { eval: true, workerData: { path, from, size, entry, hooks } });
  } catch {
    return undefined;
  }
  const answer = new Promise<WorkerAnswer>((resolve) => {
    w.once('message', (m: WorkerAnswer) => resolve(m));
    w.once('error', (e) => resolve({ fatal: String(e) }));
    w.once('exit', (code) => resolve({ fatal: `the second reader stopped (${code})` }));
  });
  return { answer, stop: () => void w.terminate() };
}

export class SnapshotFile {
  /** Size of the file last read or written. */
  bytes = 0;

  constructor(readonly path: string) {}

  private corrupt(what: string): StoreCorruptError {
    // Never overwrite a file we cannot read: the admin must look at it.
    return new StoreCorruptError(`${this.path} is not a readable invite store (${what}). The store will not start over it: `
      + 'restore it from a backup, or move it away or repair it (the journals beside it hold only the changes since it was written)');
  }

  /** Read the snapshot into `table` (still loading, its indexes deferred); null when there is none. */
  async read(table: InviteTable): Promise<SnapshotRead | null> {
    const fh = await openIfThere(this.path);
    if (!fh) return null;
    try {
      this.bytes = (await fh.stat()).size;
      const head = Buffer.alloc(HEADER.length);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      if (bytesRead === HEADER.length && head.toString('latin1') === HEADER) return await this.readLines(fh, table);
      return await this.readDocument(fh, (buf, s, e) => loadInvite(table, buf, s, e));
    } finally {
      await fh.close();
    }
  }

  private async readLines(fh: FileHandle, table: InviteTable): Promise<SnapshotRead> {
    // Line 1, the header.
    const headEnd = await nextLineStart(fh, 0);
    if (headEnd < 0) throw this.corrupt('it ends at line 1, before the end of the document: it was cut short');
    const buf = Buffer.alloc(headEnd - 1);
    await fh.read(buf, 0, buf.length, 0);
    const at = buf.length - HEADER_END.length - 8 - CRC_FIELD.length;
    if (at < 0 || buf.toString('latin1', buf.length - HEADER_END.length) !== HEADER_END || !crcOk(buf, 0, at)) throw this.damaged(1, BAD_SUM);
    const h = JSON.parse(`${buf.toString('utf8', 0, at)}}`) as { roles?: unknown; size?: unknown };
    if (typeof h.roles !== 'object' || h.roles === null) throw this.damaged(1, 'no roles');
    const size = typeof h.size === 'number' ? h.size : 0;
    table.reserve(size);

    // The invites: a large file in two halves at once, the second by another thread.
    // A little past the middle: the other thread starts some 0.2-0.3 s later (its own module loading).
    let split = this.bytes >= SPLIT_FROM ? await nextLineStart(fh, Math.max(headEnd, Math.floor(this.bytes * SPLIT_AT))) : -1;
    const apart = split > 0 && split < this.bytes ? readApart(this.path, split, size) : undefined;
    if (split > 0 && !apart) split = -1;
    const parts: RangeRead[] = [];
    /** Reads a range; its faults named by line of the file (`base`: the line before the range's first). */
    const range = async (from: number, to: number, comma: boolean | undefined, base: number) => {
      try {
        return await readLineRange(fh, table, from, to, comma);
      } catch (e) {
        throw e instanceof LineFault ? this.damaged(e.line + base, e.message) : e;
      }
    };
    try {
      parts.push(await range(headEnd, apart ? split : Infinity, false, 1));
      if (apart) {
        const got = await apart.answer;
        const base = 1 + parts[0]!.lines;
        if (got.fault) throw this.damaged(got.fault.line + base, got.fault.why);
        if (got.ok && got.part) {
          if (got.ok.invites > 0 && got.ok.firstComma !== parts[0]!.invites > 0) {
            throw this.damaged(base + 1, got.ok.firstComma ? 'a comma before the first invite' : 'no comma before it');
          }
          const pacer = new Pacer();
          await table.importPart(got.part, () => pacer.due());
          parts.push(got.ok);
        } else {
          // It could not start (or stopped): read the second half here.
          parts.push(await range(split, Infinity, parts[0]!.invites > 0, base));
        }
      }
    } finally {
      apart?.stop();
    }
    // One document: the trailer last, counting what came before it.
    const [first, second] = parts as [RangeRead, RangeRead | undefined];
    const lines = 1 + first.lines + (second?.lines ?? 0);
    const invites = first.invites + (second?.invites ?? 0);
    const tail = second ? second.tail : first.tail;
    const trailer = second ? (second.trailer ? { ...second.trailer, line: second.trailer.line + 1 + first.lines } : undefined)
      : first.trailer && { ...first.trailer, line: first.trailer.line + 1 };
    if (second && first.trailer && (second.lines > 0 || second.tail > 0)) throw this.damaged(first.trailer.line + 2, 'it follows the end of the document');
    const end = trailer ?? (first.trailer && { ...first.trailer, line: first.trailer.line + 1 });
    if (!end || tail > 0) throw this.corrupt(`it ends at line ${lines + (tail ? 1 : 0)}, before the end of the document: it was cut short`);
    if (end.count !== invites) throw this.damaged(end.line, `it counts ${end.count} invites where the file holds ${invites}: lines are missing`);
    return { roles: h.roles as Record<string, Role[]>, invites, legacy: false };
  }

  private damaged(line: number, why: string): StoreCorruptError {
    return this.corrupt(`line ${line} is damaged: ${why}`);
  }

  /**
   * The single JSON document of earlier versions, streamed: a small scanner finds
   * each element of `invites` and each other top-level value, and JSON.parse reads
   * them one at a time.
   */
  private async readDocument(fh: import('node:fs/promises').FileHandle, onInvite: OnInvite): Promise<SnapshotRead> {
    const values: Record<string, unknown> = {};
    let invites = 0;
    const doc = new DocumentScanner(
      (key, buf, s, e) => { values[key] = JSON.parse(buf.toString('utf8', s, e)); },
      (buf, s, e) => {
        try {
          onInvite(buf, s, e);
        } catch (err) {
          throw this.corrupt(`invite ${invites + 1}: ${(err as Error).message}`);
        }
        invites++;
      },
    );
    const buf = Buffer.allocUnsafe(1 << 20);
    const pacer = new Pacer();
    try {
      for (let pos = 0; ;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        await doc.scan(buf.subarray(0, bytesRead), pacer);
      }
      doc.end();
    } catch (e) {
      if (e instanceof StoreCorruptError) throw e;
      throw this.corrupt((e as Error).message);
    }
    if (values.version !== 1 || !doc.sawInvites) throw this.corrupt('not an invite store');
    const roles = values.roles ?? {};
    if (typeof roles !== 'object' || roles === null) throw this.corrupt('its roles are not an object');
    return { roles: roles as Record<string, Role[]>, invites, legacy: true };
  }

  /**
   * Write the invites `json(0..count)` gives (undefined: skip that one) and `roles`.
   * Invites changed while the slices are written may land in either state: the
   * journal replays their latest state over it.
   */
  async write(count: number, json: (i: number) => string | undefined, roles: Record<string, Role[]>): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    let bytes = 0;
    try {
      let unsynced = 0;
      const put = async (s: string) => {
        const buf = Buffer.from(s);
        for (let off = 0; off < buf.length;) off += (await fh.write(buf, off)).bytesWritten;
        bytes += buf.length;
        unsynced += buf.length;
        // Sync as we go: one big flush at the end would queue the journal's own syncs behind it.
        if (unsynced >= SYNC_EVERY) {
          await fh.datasync();
          unsynced = 0;
        }
      };
      const head = `${HEADER}"size":${count},"roles":${JSON.stringify(roles)}`;
      let part = `${head}${CRC_FIELD}${hex(crc32(head))}${HEADER_END}\n`;
      let written = 0;
      for (let i = 0; i < count; i++) {
        const j = json(i);
        if (j === undefined) continue;
        const body = j.slice(0, -1);
        part += `${written++ ? ',' : ''}${body}${CRC_FIELD}${hex(crc32(body))}"}\n`;
        // Each write is a turn of the event loop: creators are not held up for long.
        if (part.length >= WRITE_BYTES) {
          await put(part);
          part = '';
        }
      }
      await put(`${part}],"count":${written}}\n`);
      // Always synced: this is off the hot path, and the journal is deleted on the strength of it.
      await fh.sync();
    } catch (e) {
      // A full disk: leave no half snapshot behind to keep it full (the old one and the journals hold everything).
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw e;
    }
    await fh.close();
    await rename(tmp, this.path);
    await syncDirOf(this.path);
    this.bytes = bytes;
  }
}

/** Bytes of a value being scanned, across chunks. */
class Capture {
  private parts: Buffer[] = [];
  start = -1;

  begin(i: number): void {
    this.parts = [];
    this.start = i;
  }

  /** The chunk ends: keep what was captured of it. */
  spill(chunk: Buffer): void {
    if (this.start < 0) return;
    this.parts.push(Buffer.from(chunk.subarray(this.start)));
    this.start = 0;
  }

  /** Ends before `chunk[end]`; calls `take` with the bytes. */
  finish(chunk: Buffer, end: number, take: (buf: Buffer, s: number, e: number) => void): void {
    const s = this.start;
    this.start = -1;
    if (this.parts.length === 0) return take(chunk, s, end);
    this.parts.push(chunk.subarray(0, end));
    const all = Buffer.concat(this.parts);
    this.parts = [];
    take(all, 0, all.length);
  }
}

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

/**
 * Finds, in a JSON document given a chunk at a time, the elements of the top-level
 * `invites` array (each object's bytes without its closing brace, to `onInvite`) and
 * the other top-level values (to `onValue`). It checks the document's structure;
 * JSON.parse checks each part.
 */
class DocumentScanner {
  sawInvites = false;
  private depth = 0;
  private inStr = false;
  private esc = false;
  /** What comes next at the top level. */
  private expect: 'open' | 'key' | 'keyOrClose' | 'colon' | 'value' | 'primitive' | 'comma' | 'end' = 'open';
  private strIs: 'key' | 'value' | 'other' = 'other';
  private key = '';
  private inInvites = false;
  private element: 'first' | 'next' | 'comma' = 'first';
  private readonly keyCap = new Capture();
  private readonly valCap = new Capture();
  private readonly elemCap = new Capture();

  constructor(
    private readonly onValue: (key: string, buf: Buffer, s: number, e: number) => void,
    private readonly onInvite: (buf: Buffer, s: number, e: number) => void,
  ) {}

  async scan(chunk: Buffer, pacer: Pacer): Promise<void> {
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const c = chunk[i]!;
      if (this.inStr && !(this.inInvites && this.depth >= 3)) {
        if (this.esc) this.esc = false;
        else if (c === 92) this.esc = true;
        else if (c === 34) {
          this.inStr = false;
          if (this.strIs === 'key') {
            this.keyCap.finish(chunk, i + 1, (b, s, e) => { this.key = JSON.parse(b.toString('utf8', s, e)) as string; });
            this.expect = 'colon';
          } else if (this.strIs === 'value') {
            this.valCap.finish(chunk, i + 1, (b, s, e) => this.onValue(this.key, b, s, e));
            this.expect = 'comma';
          }
          this.strIs = 'other';
        }
        continue;
      }
      if (this.inInvites && this.depth >= 3) {
        // Inside an invite: run to its end (or the chunk's) in a tight loop.
        i = this.skip(chunk, i);
        if (i === n) break;
        this.elemCap.finish(chunk, i, this.onInvite);
        this.element = 'comma';
        const turn = pacer.tick();
        if (turn) await turn;
        continue;
      }
      if (this.depth >= 2 && !(this.inInvites && this.depth === 2)) {
        // Inside a nested top-level value.
        if (c === 34) this.inStr = true;
        else if (c === 123 || c === 91) this.depth++;
        else if (c === 125 || c === 93) {
          this.depth--;
          if (this.inInvites && this.depth === 2) {
            if (c !== 125) throw new Error('an element of invites is not an object');
            this.elemCap.finish(chunk, i, this.onInvite);
            this.element = 'comma';
            const turn = pacer.tick();
            if (turn) await turn;
          } else if (!this.inInvites && this.depth === 1) {
            this.valCap.finish(chunk, i + 1, (b, s, e) => this.onValue(this.key, b, s, e));
            this.expect = 'comma';
          }
        }
        continue;
      }
      if (this.expect === 'primitive') {
        if (isSpace(c) || c === 44 || c === 125) {
          this.valCap.finish(chunk, i, (b, s, e) => this.onValue(this.key, b, s, e));
          this.expect = 'comma';
        } else continue;
      }
      if (isSpace(c)) continue;
      if (this.inInvites) { // depth 2: between elements
        if (c === 123 && this.element !== 'comma') {
          this.elemCap.begin(i);
          this.depth = 3;
        } else if (c === 44 && this.element === 'comma') this.element = 'next';
        else if (c === 93 && this.element !== 'next') {
          this.inInvites = false;
          this.depth = 1;
          this.expect = 'comma';
        } else throw new Error(`unexpected ${String.fromCharCode(c)} in invites`);
        continue;
      }
      switch (this.expect) {
        case 'open':
          if (c !== 123) throw new Error('not a JSON object');
          this.depth = 1;
          this.expect = 'keyOrClose';
          break;
        case 'key':
        case 'keyOrClose':
          if (c === 34) {
            this.keyCap.begin(i);
            this.inStr = true;
            this.strIs = 'key';
          } else if (c === 125 && this.expect === 'keyOrClose') {
            this.depth = 0;
            this.expect = 'end';
          } else throw new Error('a key was expected');
          break;
        case 'colon':
          if (c !== 58) throw new Error('a colon was expected');
          this.expect = 'value';
          break;
        case 'value':
          if (this.key === 'invites' && c === 91) {
            this.sawInvites = true;
            this.inInvites = true;
            this.element = 'first';
            this.depth = 2;
            break;
          }
          this.valCap.begin(i);
          if (c === 34) {
            this.inStr = true;
            this.strIs = 'value';
          } else if (c === 123 || c === 91) this.depth = 2;
          else this.expect = 'primitive';
          break;
        case 'comma':
          if (c === 44) this.expect = 'key';
          else if (c === 125) {
            this.depth = 0;
            this.expect = 'end';
          } else throw new Error('a comma was expected');
          break;
        case 'end':
          throw new Error('something follows the end of the document');
      }
    }
    for (const cap of [this.keyCap, this.valCap, this.elemCap]) cap.spill(chunk);
  }

  /** From `chunk[i]`, inside an invite, to the brace that closes it (its index), or the chunk's end. */
  private skip(chunk: Buffer, i: number): number {
    const n = chunk.length;
    let depth = this.depth;
    let inStr = this.inStr;
    let esc = this.esc;
    for (; i < n; i++) {
      const c = chunk[i]!;
      if (inStr) {
        if (esc) esc = false;
        else if (c === 92) esc = true;
        else if (c === 34) inStr = false;
      } else if (c === 34) inStr = true;
      else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        if (--depth === 2) {
          if (c !== 125) throw new Error('an element of invites is not an object');
          break;
        }
      }
    }
    this.depth = depth;
    this.inStr = inStr;
    this.esc = esc;
    return i;
  }

  end(): void {
    if (this.expect !== 'end') throw new Error('it ends before the document does: it was cut short');
  }
}

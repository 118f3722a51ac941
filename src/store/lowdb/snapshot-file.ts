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
import { open, rename, unlink } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import type { Role } from '../../invites/types.js';
import { StoreCorruptError } from '../corrupt.js';
import { syncDirOf } from './fs-sync.js';
import { eachLine, openIfThere, Pacer } from './lines.js';

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

export class SnapshotFile {
  /** Size of the file last read or written. */
  bytes = 0;

  constructor(readonly path: string) {}

  private corrupt(what: string): StoreCorruptError {
    // Never overwrite a file we cannot read: the admin must look at it.
    return new StoreCorruptError(`${this.path} is not a readable invite store (${what}). The store will not start over it: `
      + 'restore it from a backup, or move it away or repair it (the journals beside it hold only the changes since it was written)');
  }

  /**
   * Read the snapshot, each invite to `onInvite`; null when there is none. `onSize`
   * hears first how many invites are about to come, at most (to make room once).
   */
  async read(onInvite: OnInvite, onSize?: (n: number) => void): Promise<SnapshotRead | null> {
    const fh = await openIfThere(this.path);
    if (!fh) return null;
    try {
      this.bytes = (await fh.stat()).size;
      const head = Buffer.alloc(HEADER.length);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      if (bytesRead === HEADER.length && head.toString('latin1') === HEADER) return await this.readLines(fh, onInvite, onSize);
      return await this.readDocument(fh, onInvite);
    } finally {
      await fh.close();
    }
  }

  private async readLines(fh: import('node:fs/promises').FileHandle, onInvite: OnInvite, onSize?: (n: number) => void): Promise<SnapshotRead> {
    let roles: Record<string, Role[]> | undefined;
    let invites = 0;
    let ended = false;
    let n = 0;
    const read = await eachLine(fh, (buf, start, end, line) => {
      n = line;
      if (ended) throw this.damaged(n, 'it follows the end of the document');
      if (line === 1) {
        const at = end - HEADER_END.length - 8 - CRC_FIELD.length;
        if (at < start || buf.toString('latin1', end - HEADER_END.length, end) !== HEADER_END || !crcOk(buf, start, at)) throw this.damaged(n, BAD_SUM);
        const h = JSON.parse(`${buf.toString('utf8', start, at)}}`) as { roles?: unknown; size?: unknown };
        if (typeof h.roles !== 'object' || h.roles === null) throw this.damaged(n, 'no roles');
        roles = h.roles as Record<string, Role[]>;
        if (typeof h.size === 'number') onSize?.(h.size);
        return;
      }
      if (buf[start] === 93) { // ]
        const m = TRAILER.exec(buf.toString('latin1', start, end));
        if (!m) throw this.damaged(n, 'not the end of the invites');
        if (Number(m[1]) !== invites) throw this.damaged(n, `it counts ${m[1]} invites where the file holds ${invites}: lines are missing`);
        ended = true;
        return;
      }
      let s = start;
      if (invites > 0) {
        if (buf[s] !== 44) throw this.damaged(n, 'no comma before it'); // ,
        s++;
      }
      const at = end - LINE_CRC;
      if (at <= s || buf[end - 1] !== 125 || buf[end - 2] !== 34 || !crcOk(buf, s, at)) throw this.damaged(n, BAD_SUM);
      onInvite(buf, s, at);
      invites++;
    }).catch((e: unknown) => {
      if (e instanceof StoreCorruptError) throw e;
      throw this.damaged(n, (e as Error).message);
    });
    if (!ended || read.tail.length > 0) throw this.corrupt(`it ends at line ${read.lines + (read.tail.length ? 1 : 0)}, before the end of the document: it was cut short`);
    return { roles: roles!, invites, legacy: false };
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

// Reading Prosody's internal file storage (mod_storage_internal, util/datamanager)
// without Prosody: the files are Lua chunks, `return { ... };`, as util/serialization
// writes them (the same in 0.12 and 13: /usr/lib/prosody/util/serialization.lua and
// /opt/prosody13/usr/lib/prosody/util/serialization.lua). They are parsed here as
// data, never run: only table constructors, strings, numbers, booleans and nil.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { datamanagerDecode, datamanagerEncode } from '../server/prosody/datamanager.js';

export type LuaValue = string | number | boolean | LuaTable;
/** A Lua table: keys as Lua has them (array items get 1, 2, ...); nil values are absent, as in Lua. */
export type LuaTable = Map<string | number | boolean, LuaValue>;

export class LuaParseError extends Error {}

/** Big enough for any invite store seen; a bigger file is refused rather than read into memory. */
const MAX_FILE_BYTES = 256 * 1024 * 1024;
/** util/serialization stops at 127 levels; anything deeper did not come from it. */
const MAX_DEPTH = 128;

const utf8 = new TextDecoder('utf-8', { fatal: true });

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34, "'": 39, '\n': 10, '\r': 10,
};

/**
 * Parse one store file: `return <value>;` (the trailing `;` optional). Throws
 * LuaParseError saying where, never what: the files hold tokens and passwords.
 */
export function parseLuaData(data: Buffer): LuaValue | undefined {
  return new Parser(data).file();
}

class Parser {
  private pos = 0;
  constructor(private readonly b: Buffer) {}

  private fail(what: string): never {
    throw new LuaParseError(`${what} at byte ${this.pos}`);
  }

  private peek(offset = 0): number {
    return this.pos + offset < this.b.length ? this.b[this.pos + offset]! : -1;
  }

  /** Whitespace and comments (`-- ...` and `--[[ ... ]]`). */
  private skip(): void {
    for (;;) {
      const c = this.peek();
      if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) this.pos++;
      else if (c === 0x2d && this.peek(1) === 0x2d) {
        this.pos += 2;
        const level = this.longBracket();
        if (level >= 0) this.longString(level);
        else while (this.pos < this.b.length && this.b[this.pos] !== 0x0a) this.pos++;
      } else return;
    }
  }

  private word(): string {
    const start = this.pos;
    while (/[A-Za-z0-9_]/.test(String.fromCharCode(this.peek()))) this.pos++;
    return this.b.toString('latin1', start, this.pos);
  }

  file(): LuaValue | undefined {
    if (this.b.length > MAX_FILE_BYTES) this.fail('file too big');
    // A UTF-8 byte order mark would not load in Lua either, but costs nothing to allow.
    if (this.b[0] === 0xef && this.b[1] === 0xbb && this.b[2] === 0xbf) this.pos = 3;
    this.skip();
    if (this.word() !== 'return') this.fail('expected "return"');
    const value = this.value(0);
    this.skip();
    if (this.peek() === 0x3b) this.pos++;
    this.skip();
    if (this.pos !== this.b.length) this.fail('unexpected text after the value');
    return value;
  }

  /** One value; undefined for nil. */
  private value(depth: number): LuaValue | undefined {
    this.skip();
    const c = this.peek();
    if (c === 0x7b) return this.table(depth + 1);
    if (c === 0x22 || c === 0x27) return this.quoted();
    if (c === 0x5b) {
      const level = this.longBracket();
      if (level < 0) this.fail('unexpected "["');
      return this.longString(level);
    }
    if (c === 0x28) return this.parenthesised();
    if (c === 0x2d || c === 0x2e || (c >= 0x30 && c <= 0x39)) return this.number();
    const w = this.word();
    if (w === 'true') return true;
    if (w === 'false') return false;
    if (w === 'nil') return undefined;
    this.fail(c < 0 ? 'unexpected end of file' : 'unexpected character');
  }

  /** util/serialization writes infinities and NaN as (1/0), (-1/0), (0/0). */
  private parenthesised(): number {
    const start = this.pos;
    const end = this.b.indexOf(0x29, start);
    const text = end < 0 ? '' : this.b.toString('latin1', start, end + 1).replace(/\s+/g, '');
    const special: Record<string, number> = { '(1/0)': Infinity, '(-1/0)': -Infinity, '(0/0)': NaN, '(-(0/0))': NaN };
    if (!(text in special)) this.fail('unexpected "("');
    this.pos = end + 1;
    return special[text]!;
  }

  private number(): number {
    let negative = false;
    while (this.peek() === 0x2d) {
      if (this.peek(1) === 0x2d) this.fail('unexpected comment');
      negative = !negative;
      this.pos++;
      this.skip();
    }
    const start = this.pos;
    let text: string;
    if (this.peek() === 0x30 && (this.peek(1) | 0x20) === 0x78) {
      this.pos += 2;
      while (/[0-9A-Fa-f]/.test(String.fromCharCode(this.peek()))) this.pos++;
      text = this.b.toString('latin1', start, this.pos);
      if (text.length === 2) this.fail('malformed number');
    } else {
      while (/[0-9.]/.test(String.fromCharCode(this.peek()))) this.pos++;
      if ((this.peek() | 0x20) === 0x65) {
        this.pos++;
        if (this.peek() === 0x2b || this.peek() === 0x2d) this.pos++;
        while (/[0-9]/.test(String.fromCharCode(this.peek()))) this.pos++;
      }
      text = this.b.toString('latin1', start, this.pos);
      if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) this.fail('malformed number');
    }
    if (/[A-Za-z_]/.test(String.fromCharCode(this.peek()))) this.fail('malformed number');
    const n = Number(text);
    return negative ? -n : n;
  }

  private table(depth: number): LuaTable {
    if (depth > MAX_DEPTH) this.fail('tables nested too deep');
    this.pos++; // {
    const t: LuaTable = new Map();
    let next = 1;
    for (;;) {
      this.skip();
      const c = this.peek();
      if (c === 0x7d) {
        this.pos++;
        return t;
      }
      let key: string | number | boolean;
      let value: LuaValue | undefined;
      if (c === 0x5b && this.longBracket(false) < 0) {
        this.pos++; // [
        const k = this.value(depth);
        this.skip();
        if (this.peek() !== 0x5d) this.fail('expected "]"');
        this.pos++;
        if (k === undefined || (typeof k === 'number' && Number.isNaN(k))) this.fail('nil or NaN key');
        if (k instanceof Map) this.fail('table as a key');
        key = typeof k === 'number' && Object.is(k, -0) ? 0 : k;
        this.equals();
        value = this.value(depth);
      } else if (/[A-Za-z_]/.test(String.fromCharCode(c)) && this.isField()) {
        key = this.word();
        this.equals();
        value = this.value(depth);
      } else {
        key = next++;
        value = this.value(depth);
      }
      if (value === undefined) t.delete(key);
      else t.set(key, value);
      this.skip();
      const sep = this.peek();
      if (sep === 0x2c || sep === 0x3b) this.pos++;
      else if (sep !== 0x7d) this.fail('expected "," ";" or "}"');
    }
  }

  /** At a name: is it `name = ...` (a field) rather than a value such as `true`? */
  private isField(): boolean {
    const save = this.pos;
    this.word();
    this.skip();
    const field = this.peek() === 0x3d && this.peek(1) !== 0x3d;
    this.pos = save;
    return field;
  }

  private equals(): void {
    this.skip();
    if (this.peek() !== 0x3d) this.fail('expected "="');
    this.pos++;
  }

  /**
   * At `[`: the level of a long bracket `[==[` (its length in `=`), consumed when
   * `consume`; -1 (nothing consumed) when it is not one.
   */
  private longBracket(consume = true): number {
    if (this.peek() !== 0x5b) return -1;
    let i = 1;
    while (this.peek(i) === 0x3d) i++;
    if (this.peek(i) !== 0x5b) return -1;
    if (consume) this.pos += i + 1;
    return i - 1;
  }

  private longString(level: number): string {
    const close = Buffer.from(`]${'='.repeat(level)}]`, 'latin1');
    const end = this.b.indexOf(close, this.pos);
    if (end < 0) this.fail('unfinished long string');
    let start = this.pos;
    // A newline right after the opening bracket is not part of the string.
    if (this.b[start] === 0x0d && this.b[start + 1] === 0x0a) start += 2;
    else if (this.b[start] === 0x0a || this.b[start] === 0x0d) start++;
    this.pos = end + close.length;
    return this.text(this.b.subarray(start, end));
  }

  private quoted(): string {
    const quote = this.b[this.pos++]!;
    const bytes: number[] = [];
    for (;;) {
      const c = this.peek();
      if (c < 0 || c === 0x0a || c === 0x0d) this.fail('unfinished string');
      this.pos++;
      if (c === quote) break;
      if (c !== 0x5c) {
        bytes.push(c);
        continue;
      }
      const e = this.peek();
      const ch = String.fromCharCode(e);
      if (ch in SIMPLE_ESCAPES) {
        this.pos++;
        if (e === 0x0d && this.peek() === 0x0a) this.pos++;
        else if (e === 0x0a && this.peek() === 0x0d) this.pos++;
        bytes.push(SIMPLE_ESCAPES[ch]!);
      } else if (e >= 0x30 && e <= 0x39) {
        let n = 0;
        for (let i = 0; i < 3 && this.peek() >= 0x30 && this.peek() <= 0x39; i++) n = n * 10 + (this.b[this.pos++]! - 0x30);
        if (n > 255) this.fail('escape out of range');
        bytes.push(n);
      } else if (ch === 'x') {
        const hex = this.b.toString('latin1', this.pos + 1, this.pos + 3);
        if (!/^[0-9A-Fa-f]{2}$/.test(hex)) this.fail('malformed \\x escape');
        this.pos += 3;
        bytes.push(parseInt(hex, 16));
      } else if (ch === 'z') {
        this.pos++;
        while (this.peek() === 0x20 || (this.peek() >= 0x09 && this.peek() <= 0x0d)) this.pos++;
      } else if (ch === 'u') {
        const m = /^u\{([0-9A-Fa-f]{1,8})\}/.exec(this.b.toString('latin1', this.pos, this.pos + 12));
        const cp = m ? parseInt(m[1]!, 16) : -1;
        if (!m || cp > 0x10ffff) this.fail('malformed \\u escape');
        this.pos += m[0].length;
        bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
      } else {
        this.fail('unknown escape');
      }
    }
    return this.text(Buffer.from(bytes));
  }

  /** Lua strings are bytes; Prosody's are UTF-8 (the serializer escapes every byte above 126). */
  private text(bytes: Uint8Array): string {
    try {
      return utf8.decode(bytes);
    } catch {
      this.fail('string is not UTF-8');
    }
  }
}

// ---------------------------------------------------------------------------
// Where the files are (util/datamanager.getpath): DATA/<host>/<store>.dat for the
// host's own record (user nil), DATA/<host>/<store>/<user>.dat per user; host and
// user names escaped as util/datamanager does (datamanager.ts beside the Prosody harness).

/** One file that could not be read as a store file (what was wrong, never its content). */
export interface FileProblem {
  /** Relative to the data dir. */
  file: string;
  reason: string;
}

export interface StoreFile {
  /** Relative to the data dir. */
  file: string;
  value: LuaTable;
  mtime: Date;
}

export class ProsodyDataError extends Error {}

/** The host's data folder; throws ProsodyDataError (naming the hosts that are there) when it is not. */
export async function hostDir(dataDir: string, host: string): Promise<string> {
  const dir = path.join(dataDir, datamanagerEncode(host));
  const st = await fsp.stat(dir).catch(() => undefined);
  if (st?.isDirectory()) return dir;
  const there = await fsp.readdir(dataDir, { withFileTypes: true }).catch(() => undefined);
  if (!there) throw new ProsodyDataError(`${dataDir} is not a readable directory (Prosody's data_path)`);
  const hosts = there.filter((d) => d.isDirectory()).map((d) => datamanagerDecode(d.name)).sort();
  throw new ProsodyDataError(`${dataDir} has no data for ${host} (no ${path.basename(dir)}/ in it); hosts there: ${hosts.join(', ') || 'none'}`);
}

async function readStoreFile(dataDir: string, file: string): Promise<{ ok: StoreFile } | { problem: FileProblem } | undefined> {
  const full = path.join(dataDir, file);
  let data: Buffer;
  let mtime: Date;
  try {
    const st = await fsp.stat(full);
    if (!st.isFile()) return { problem: { file, reason: 'not a file' } };
    if (st.size > MAX_FILE_BYTES) return { problem: { file, reason: `too big (${st.size} bytes)` } };
    mtime = st.mtime;
    data = await fsp.readFile(full);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    return { problem: { file, reason: `cannot be read (${code ?? 'error'})` } };
  }
  try {
    const value = parseLuaData(data);
    if (value === undefined) return undefined; // `return nil;`: an empty store
    if (!(value instanceof Map)) return { problem: { file, reason: 'not a table' } };
    return { ok: { file, value, mtime } };
  } catch (e) {
    if (e instanceof LuaParseError) return { problem: { file, reason: `not a Prosody store file (${e.message})` } };
    throw e;
  }
}

/** A store's files for one host: the host's own record and each user's, as tables. */
export interface HostStore {
  /** DATA/<host>/<store>.dat (the record of user nil), when present. */
  host?: StoreFile;
  /** DATA/<host>/<store>/<user>.dat, by username (decoded). */
  users: Map<string, StoreFile>;
  problems: FileProblem[];
}

export async function readHostStore(dataDir: string, host: string, store: string): Promise<HostStore> {
  const hdir = await hostDir(dataDir, host);
  const rel = path.basename(hdir);
  const out: HostStore = { users: new Map(), problems: [] };
  const own = await readStoreFile(dataDir, path.join(rel, `${store}.dat`));
  if (own && 'ok' in own) out.host = own.ok;
  else if (own) out.problems.push(own.problem);
  const entries = await fsp.readdir(path.join(hdir, store), { withFileTypes: true }).catch(() => []);
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    // Prosody's own temporary files while writing (name~) and other strays are not records.
    if (!e.name.endsWith('.dat')) continue;
    const file = path.join(rel, store, e.name);
    const read = await readStoreFile(dataDir, file);
    if (!read) continue;
    if ('problem' in read) out.problems.push(read.problem);
    else out.users.set(datamanagerDecode(e.name.slice(0, -'.dat'.length)), read.ok);
  }
  return out;
}

// The lowdb store's invites in memory, in columns rather than one object each.
//
// A million plain invite objects cost ~430 bytes each (an object of ten fields,
// five strings, two arrays, two Map entries): 855 MiB of RSS at 1M. Here the
// fields every invite has live in typed arrays, slot by slot: the id packed into a
// number (8 characters of a 32-letter alphabet: 40 bits), the token hash as its
// 32 bytes, the times as milliseconds, the kind as a byte, the creator and the
// role set as numbers into small tables of the distinct ones. What only some
// invites have (uses, a revocation, a bound username) and any value
// that does not fit its column (an id of another shape, a time not in the
// canonical form, a field this version does not know) goes into a side map by
// slot, kept as it was. Indexes are open-addressing tables of slots keyed by the
// id and the hash, and slot lists in list order (creation time, then id), one for
// all and one per creator. About 100 bytes an invite in all; no per-invite objects
// for the garbage collector to walk.
//
// Readers get a fresh Invite built from the columns each time (`invite(slot)`),
// so nothing a caller does to it can change the store. The start-up reader feeds
// lines straight from the file's bytes (`loadCanonical`), without an object per
// line, for lines in the order this module writes (`inviteJson`); any other line
// goes through JSON.parse and `set`.
import type { Invite, InviteKind, InviteUse, Role } from '../../invites/types.js';

const KINDS: readonly InviteKind[] = ['account', 'contact', 'account-contact', 'reset'];
const ODD_KIND = 255;

// Slot flags.
const LIVE = 1;
const REVOKED = 2;
const PENDING = 4;
const EXTRA = 8;

/** What does not fit the columns, by slot. */
export interface Extra {
  /** An id not of the packed shape. */
  id?: string;
  /** A token hash that is not the base64url of 32 bytes. */
  tokenHash?: string;
  /** An inviter that is not a string. */
  inviter?: unknown;
  username?: string;
  uses?: InviteUse[];
  revokedAt?: unknown;
  /** Fields whose value does not fit their column, as they were. */
  odd?: { kind?: unknown; createdAt?: unknown; expiresAt?: unknown; maxUses?: unknown };
  /** Fields this version does not know, kept and written back. */
  rest?: Record<string, unknown>;
}

const KNOWN = new Set(['id', 'tokenHash', 'kind', 'createdBy', 'inviter', 'username', 'roles', 'maxUses', 'uses', 'createdAt', 'expiresAt', 'revokedAt']);

// Ids: ranks in sorted order, so packed numbers sort as the strings do.
const ID_CHARS = '23456789abcdefghijkmnpqrstuvwxyz';
const ID_RANK = new Int8Array(128).fill(-1);
for (let i = 0; i < 32; i++) ID_RANK[ID_CHARS.charCodeAt(i)] = i;

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64_VAL = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_VAL[B64.charCodeAt(i)] = i;

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Scratch for strings read as bytes. */
const scratch = new Uint8Array(64);

/** Copy an ASCII string of at most 64 characters into `scratch`; false otherwise. */
function toScratch(s: string): boolean {
  if (s.length > 64) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 127) return false;
    scratch[i] = c;
  }
  return true;
}

/** The packed id at `b[p..p+8)`, or -1. */
function packIdAt(b: Uint8Array, p: number): number {
  let n = 0;
  for (let k = 0; k < 8; k++) {
    const c = b[p + k]!;
    const r = c < 128 ? ID_RANK[c]! : -1;
    if (r < 0) return -1;
    n = n * 32 + r;
  }
  return n;
}

function packId(id: string): number {
  return id.length === 8 && toScratch(id) ? packIdAt(scratch, 0) : -1;
}

function unpackId(n: number): string {
  let s = '';
  for (let k = 7; k >= 0; k--) {
    const d = 32 ** k;
    s += ID_CHARS[Math.floor(n / d) % 32];
  }
  return s;
}

const digit = (b: Uint8Array, p: number) => {
  const d = b[p]! - 48;
  return d >= 0 && d <= 9 ? d : NaN;
};
const two = (b: Uint8Array, p: number) => digit(b, p) * 10 + digit(b, p + 1);

/**
 * Milliseconds of the time `YYYY-MM-DDTHH:MM:SS.sssZ` at `b[p..p+24)`, exactly as
 * toISOString writes it (years 1970–9999), so it can be written back the same; else NaN.
 */
function isoAt(b: Uint8Array, p: number): number {
  if (b[p + 4] !== 45 || b[p + 7] !== 45 || b[p + 10] !== 84 || b[p + 13] !== 58 || b[p + 16] !== 58 || b[p + 19] !== 46 || b[p + 23] !== 90) return NaN;
  const y = two(b, p) * 100 + two(b, p + 2);
  const m = two(b, p + 5);
  const d = two(b, p + 8);
  const h = two(b, p + 11);
  const min = two(b, p + 14);
  const s = two(b, p + 17);
  const ms = two(b, p + 20) * 10 + digit(b, p + 22);
  if (!(y >= 1970 && m >= 1 && m <= 12 && d >= 1 && h < 24 && min < 60 && s < 60 && ms >= 0)) return NaN;
  const leap = m === 2 && (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)) ? 1 : 0;
  if (d > DAYS[m - 1]! + leap) return NaN;
  // Days from 1970-01-01 (the civil-from-days inverse, proleptic Gregorian).
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  const days = era * 146097 + doe - 719468;
  return ((days * 24 + h) * 60 + min) * 60000 + s * 1000 + ms;
}

function isoMs(v: unknown): number {
  return typeof v === 'string' && v.length === 24 && toScratch(v) ? isoAt(scratch, 0) : NaN;
}

/** Decode the 43 base64url characters at `b[p..)` into `out[o..o+32)`; false if not the canonical encoding of 32 bytes. */
function hashAt(b: Uint8Array, p: number, out: Uint8Array, o: number): boolean {
  let acc = 0;
  let bits = 0;
  for (let k = 0; k < 43; k++) {
    const c = b[p + k]!;
    const v = c < 128 ? B64_VAL[c]! : -1;
    if (v < 0) return false;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 255;
    }
  }
  return (acc & ((1 << bits) - 1)) === 0; // the last character's spare bits are zero
}

const hashBuf = Buffer.alloc(32);
/** The 32 bytes of a canonical token hash, in `hashBuf`; false otherwise. */
function decodeHash(s: string): boolean {
  return s.length === 43 && toScratch(s) && hashAt(scratch, 0, hashBuf, 0);
}

const word = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24));
const idHash = (n: number) => Math.imul((n % 4294967296) ^ Math.floor(n / 4294967296), 0x9e3779b1);

/**
 * Open addressing with linear probing over slots, each entry two int32s: the slot
 * (+1; 0 is empty) and its key's hash, so growing and deleting never go back to
 * the columns (at 1M entries a rehash reads 16 MB in order: ~10 ms).
 */
class SlotIndex {
  t = new Int32Array(32);
  mask = 15;
  private n = 0;

  /** Room for `count` entries without growing. */
  reserve(count: number): void {
    let cap = this.mask + 1;
    while (cap * 0.7 < count) cap *= 2;
    if (cap !== this.mask + 1) this.rehash(cap);
  }

  /** Where probing for `h` starts. */
  start(h: number): number {
    return (h & this.mask) * 2;
  }

  /** The next position after `i`. */
  next(i: number): number {
    return (i + 2) & (this.mask * 2 + 1);
  }

  /** Put `slot` at the empty position `i` that probing for `h` reached (see start/next). */
  put(i: number, slot: number, h: number): void {
    this.t[i] = slot + 1;
    this.t[i + 1] = h;
    if (++this.n * 4 > (this.mask + 1) * 3) this.rehash((this.mask + 1) * 2);
  }

  /**
   * Add many at once, in order of where they go (a counting sort by the top bits of
   * their start): the table is then written nearly in order, not at random. `same`
   * decides about an entry of equal key already there: -1 (not the same) or the slot to keep.
   */
  async addAll(slots: Int32Array, keys: Int32Array, pause: () => Promise<void> | undefined, same?: (had: number, slot: number) => number): Promise<void> {
    const cap = this.mask + 1;
    // Few enough buckets for their write positions to stay in cache; each covers a small stretch of the table.
    const bits = Math.min(12, Math.log2(cap));
    const shift = Math.log2(cap) - bits;
    const counts = new Int32Array((1 << bits) + 1);
    for (let i = 0; i < keys.length; i++) {
      counts[((keys[i]! & this.mask) >>> shift) + 1]!++;
      if ((i & 1023) === 0) {
        const p = pause();
        if (p) await p;
      }
    }
    for (let b = 1; b < counts.length; b++) counts[b]! += counts[b - 1]!;
    // (slot, key) pairs in order of bucket, so the pass below reads them in order.
    const pairs = new Int32Array(keys.length * 2);
    for (let i = 0; i < keys.length; i++) {
      const at = counts[(keys[i]! & this.mask) >>> shift]!++ * 2;
      pairs[at] = slots[i]!;
      pairs[at + 1] = keys[i]!;
      if ((i & 1023) === 0) {
        const p = pause();
        if (p) await p;
      }
    }
    const t = this.t;
    for (let k = 0; k < pairs.length; k += 2) {
      const slot = pairs[k]!;
      const h = pairs[k + 1]!;
      let i = this.start(h);
      let placed = false;
      for (; t[i] !== 0; i = this.next(i)) {
        if (same && t[i + 1] === h) {
          const keep = same(t[i]! - 1, slot);
          if (keep >= 0) {
            t[i] = keep + 1;
            placed = true;
            break;
          }
        }
      }
      if (!placed) {
        t[i] = slot + 1;
        t[i + 1] = h;
        this.n++;
      }
      if ((k & 2047) === 0) {
        const p = pause();
        if (p) await p;
      }
    }
    if (this.n * 4 > cap * 3) this.rehash(cap * 2);
  }

  add(slot: number, h: number): void {
    let i = this.start(h);
    while (this.t[i] !== 0) i = this.next(i);
    this.put(i, slot, h);
  }

  remove(slot: number, h: number): void {
    const t = this.t;
    const mask = this.mask;
    let i = this.start(h);
    while (t[i] !== slot + 1) {
      if (t[i] === 0) return;
      i = this.next(i);
    }
    // Backward-shift deletion: move up any later entry whose probe passes through i.
    for (let j = this.next(i); t[j] !== 0; j = this.next(j)) {
      const k = (t[j + 1]! & mask) * 2;
      const stays = i <= j ? i < k && k <= j : i < k || k <= j;
      if (!stays) {
        t[i] = t[j]!;
        t[i + 1] = t[j + 1]!;
        i = j;
      }
    }
    t[i] = 0;
    this.n--;
  }

  private rehash(cap: number): void {
    const old = this.t;
    const t = new Int32Array(cap * 2);
    const wrap = cap * 2 - 1;
    const mask = cap - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] === 0) continue;
      let j = (old[i + 1]! & mask) * 2;
      while (t[j] !== 0) j = (j + 2) & wrap;
      t[j] = old[i]!;
      t[j + 1] = old[i + 1]!;
    }
    this.t = t;
    this.mask = mask;
  }
}

/** A growable list of slots. */
export class SlotList {
  a: Int32Array;
  n = 0;

  constructor(cap = 4) {
    this.a = new Int32Array(cap);
  }

  push(slot: number): void {
    if (this.n === this.a.length) this.resize(this.n * 2);
    this.a[this.n++] = slot;
  }

  insertAt(i: number, slot: number): void {
    if (this.n === this.a.length) this.resize(this.n * 2);
    this.a.copyWithin(i + 1, i, this.n);
    this.a[i] = slot;
    this.n++;
  }

  removeAt(i: number): void {
    this.a.copyWithin(i, i + 1, this.n);
    this.n--;
  }

  /** Keep only the slots `keep` says to, in order. */
  filter(keep: (slot: number) => boolean): void {
    let w = 0;
    for (let r = 0; r < this.n; r++) {
      const s = this.a[r]!;
      if (keep(s)) this.a[w++] = s;
    }
    this.n = w;
    if (this.a.length > 64 && this.n * 4 < this.a.length) this.resize(this.n * 2);
  }

  copy(): Int32Array {
    return this.a.slice(0, this.n);
  }

  resize(cap: number): void {
    const a = new Int32Array(Math.max(4, cap));
    a.set(this.a.subarray(0, Math.min(this.n, a.length)));
    this.a = a;
  }
}

/** A list position: the creation time and id of an invite. */
interface Key {
  ms: number;
  createdAt: string;
  idn: number;
  id: string;
}

// Byte strings the scanner expects, in the order `inviteJson` writes the fields.
const KIND_BYTES = KINDS.map((k) => Buffer.from(k));
const L_ID = Buffer.from('{"id":"');
const L_HASH = Buffer.from('","tokenHash":"');
const L_KIND = Buffer.from('","kind":"');
const L_BY = Buffer.from('","createdBy":"');
const L_INVITER = Buffer.from('","inviter":"');
const L_USERNAME = Buffer.from('","username":"');
const L_ROLES = Buffer.from('","roles":[');
const L_MAX = Buffer.from('],"maxUses":');
const L_USES = Buffer.from(',"uses":[]');
const L_CREATED = Buffer.from(',"createdAt":"');
const L_EXPIRES = Buffer.from('","expiresAt":"');
const L_REVOKED = Buffer.from('","revokedAt":"');

function at(b: Uint8Array, p: number, lit: Buffer): boolean {
  for (let i = 0; i < lit.length; i++) if (b[p + i] !== lit[i]) return false;
  return true;
}

/** The end of a plain JSON string starting at `b[p]` (no escapes, no control characters): its closing quote, or -1. `hi` is set when it is not ASCII. */
let hi = false;
/** FNV-1a of the string's bytes, as strEnd last read them. */
let strHash = 0;
function strEnd(b: Uint8Array, p: number, end: number): number {
  hi = false;
  let h = 0x811c9dc5;
  for (let i = p; i < end; i++) {
    const c = b[i]!;
    if (c === 34) {
      strHash = h;
      return i;
    }
    if (c === 92 || c < 32) return -1;
    if (c > 127) hi = true;
    h = Math.imul(h ^ c, 16777619);
  }
  return -1;
}

export class InviteTable {
  private cap = 0;
  private idn = new Float64Array(0);
  private hash = Buffer.alloc(0);
  private created = new Float64Array(0);
  private expires = new Float64Array(0);
  private maxUses = new Float64Array(0);
  /** Uses that are not pending: what isOpen counts. */
  private used = new Uint32Array(0);
  private kind = new Uint8Array(0);
  private flags = new Uint8Array(0);
  private creator = new Uint32Array(0);
  private roleSet = new Uint32Array(0);
  /** The contact kinds' inviter: 1 + its number among the creators' names (0: none). */
  private inviterNo = new Uint32Array(0);
  private readonly extra = new Map<number, Extra>();

  /** Distinct creators and role sets, by number (never shrinks: they are few). */
  private readonly creators: string[] = [];
  private readonly creatorNo = new Map<string, number>();
  private readonly quotedCreators: string[] = [];
  private readonly creatorBytes: Buffer[] = [];
  private readonly creatorByBytes = new Map<number, number>();
  private readonly roleSets: Role[][] = [[]];
  private readonly roleSetNo = new Map<string, number>([['[]', 0]]);

  private readonly byIdn = new SlotIndex();
  private readonly byHash = new SlotIndex();
  private readonly oddIds = new Map<string, number>();
  private readonly oddHashes = new Map<string, number>();

  /** Every live invite, in list order. */
  order = new SlotList(16);
  /** While loading: invites that came after one listed later (merged in by endBulk). */
  private late = new SlotList();
  private readonly byCreator = new Map<number, SlotList>();
  readonly pending = new Set<number>();

  /** The empty position of the id index where the last unsuccessful slotOfPacked stopped. */
  private idGap = 0;
  private top = 0;
  private free: number[] = [];
  /** Slots freed while a snapshot is being written from the list: reused only after. */
  private held: number[] | null = null;
  private live = 0;

  /** While loading: lists are appended to and sorted, and removals applied, once at the end. */
  private bulk = false;
  /** Loading a snapshot: the indexes are left alone, and built at once after (buildIndexes). */
  private deferred = false;
  private removedInBulk = false;

  get size(): number {
    return this.live;
  }

  // ---- reading

  slotOf(id: string): number {
    const n = packId(id);
    return n < 0 ? this.oddIds.get(id) ?? -1 : this.slotOfPacked(n);
  }

  private slotOfPacked(n: number): number {
    const ix = this.byIdn;
    const t = ix.t;
    const h = idHash(n);
    let i = ix.start(h);
    for (; t[i] !== 0; i = ix.next(i)) {
      if (t[i + 1] === h && this.idn[t[i]! - 1] === n) return t[i]! - 1;
    }
    // Not there: where it would go, for loadCanonical's insert.
    this.idGap = i;
    return -1;
  }

  slotOfHash(tokenHash: string): number {
    if (!decodeHash(tokenHash)) return this.oddHashes.get(tokenHash) ?? -1;
    const ix = this.byHash;
    const t = ix.t;
    const h = this.hash;
    const w = word(hashBuf, 0);
    for (let i = ix.start(w); t[i] !== 0; i = ix.next(i)) {
      const o = (t[i]! - 1) * 32;
      if (t[i + 1] === w && h.compare(hashBuf, 0, 32, o, o + 32) === 0) return t[i]! - 1;
    }
    return -1;
  }

  /** A fresh Invite from the slot's columns. */
  invite(slot: number): Invite {
    const x = this.flags[slot]! & EXTRA ? this.extra.get(slot) : undefined;
    const odd = x?.odd;
    const inv: Record<string, unknown> = {
      id: x?.id ?? unpackId(this.idn[slot]!),
      tokenHash: x?.tokenHash ?? this.hash.toString('base64url', slot * 32, slot * 32 + 32),
      kind: odd && 'kind' in odd ? odd.kind : KINDS[this.kind[slot]!],
      createdBy: this.creators[this.creator[slot]!],
    };
    const inviter = this.inviterNo[slot]!;
    if (inviter) inv.inviter = this.creators[inviter - 1];
    else if (x?.inviter !== undefined) inv.inviter = x.inviter;
    if (x?.username !== undefined) inv.username = x.username;
    inv.roles = this.roleSets[this.roleSet[slot]!]!.slice();
    inv.maxUses = odd && 'maxUses' in odd ? odd.maxUses : this.maxUses[slot];
    inv.uses = x?.uses ? structuredClone(x.uses) : [];
    inv.createdAt = odd && 'createdAt' in odd ? odd.createdAt : new Date(this.created[slot]!).toISOString();
    inv.expiresAt = odd && 'expiresAt' in odd ? odd.expiresAt : new Date(this.expires[slot]!).toISOString();
    if (x?.revokedAt !== undefined) inv.revokedAt = x.revokedAt;
    if (x?.rest) Object.assign(inv, structuredClone(x.rest));
    for (const k of Object.keys(inv)) if (inv[k] === undefined) delete inv[k];
    return inv as unknown as Invite;
  }

  /** isOpen (store.ts) from the columns. */
  isOpen(slot: number, at: number): boolean {
    const f = this.flags[slot]!;
    if (f & REVOKED) return false;
    const odd = f & EXTRA ? this.extra.get(slot)?.odd : undefined;
    if (odd) {
      // Values of other shapes: the rule itself, on the invite as it is.
      const inv = this.invite(slot);
      if (inv.uses.filter((u) => !u.pending).length >= inv.maxUses) return false;
      return at < new Date(inv.expiresAt).getTime();
    }
    return this.used[slot]! < this.maxUses[slot]! && at < this.expires[slot]!;
  }

  creatorList(createdBy: string): SlotList | undefined {
    const c = this.creatorNo.get(createdBy);
    return c === undefined ? undefined : this.byCreator.get(c);
  }

  /** The first position in `list` after `createdAt|id` (binary search). */
  firstAfter(list: SlotList, createdAt: string, id: string): number {
    const key: Key = { ms: isoMs(createdAt), createdAt, idn: packId(id), id };
    let lo = 0;
    let hi = list.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cmpKey(list.a[mid]!, key) > 0) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** The canonical JSON of the slot's invite: what `loadCanonical` reads back fastest. */
  inviteJson(slot: number): string {
    const f = this.flags[slot]!;
    if (f & EXTRA) return inviteJson(this.invite(slot));
    const r = this.roleSet[slot]!;
    return `{"id":"${unpackId(this.idn[slot]!)}","tokenHash":"${this.hash.toString('base64url', slot * 32, slot * 32 + 32)}","kind":"${KINDS[this.kind[slot]!]}",`
      + `"createdBy":${this.quotedCreators[this.creator[slot]!]},${this.inviterNo[slot] ? `"inviter":${this.quotedCreators[this.inviterNo[slot]! - 1]},` : ''}"roles":${r === 0 ? '[]' : JSON.stringify(this.roleSets[r])},"maxUses":${this.maxUses[slot]},"uses":[],`
      + `"createdAt":"${new Date(this.created[slot]!).toISOString()}","expiresAt":"${new Date(this.expires[slot]!).toISOString()}"}`;
  }

  // ---- writing

  /** From now until `release()`, freed slots are not reused (a snapshot is being written from a copy of the list). */
  hold(): void {
    this.held ??= [];
  }

  release(): void {
    if (this.held) this.free.push(...this.held);
    this.held = null;
  }

  /**
   * Start loading. With `deferIndexes` (a snapshot, whose ids are its own) nothing
   * is looked up or indexed until buildIndexes(): a probe of a table of millions is
   * a cache miss, and building them in order of position instead of arrival makes
   * them nearly sequential.
   */
  beginBulk(expected = 0, deferIndexes = false): void {
    this.bulk = true;
    this.deferred = deferIndexes;
    this.reserve(expected);
  }

  /**
   * Index everything loaded since beginBulk(…, true), giving way to the event loop
   * between slices. The same id twice (a file edited by hand): the later one stays.
   */
  async buildIndexes(pause: () => Promise<void> | undefined): Promise<void> {
    if (!this.deferred) return;
    this.deferred = false;
    const live = new Int32Array(this.live);
    let n = 0;
    for (let s = 0; s < this.top; s++) {
      if ((s & 1023) === 0) {
        const p = pause();
        if (p) await p;
      }
      if (!(this.flags[s]! & LIVE)) continue;
      const x = this.flags[s]! & EXTRA ? this.extra.get(s) : undefined;
      if (x?.id !== undefined) {
        const before = this.oddIds.get(x.id);
        if (before !== undefined) this.drop(before);
        this.oddIds.set(x.id, s);
      } else live[n++] = s;
    }
    this.byIdn.reserve(this.live);
    const ids = live.subarray(0, n);
    const idKeys = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      idKeys[i] = idHash(this.idn[ids[i]!]!);
      if ((i & 1023) === 0) {
        const p = pause();
        if (p) await p;
      }
    }
    await this.byIdn.addAll(ids, idKeys, pause, (a, b) => {
      if (this.idn[a] !== this.idn[b]) return -1;
      // The same id twice: the later line wins, as replaying it would.
      const [keep, gone] = a > b ? [a, b] : [b, a];
      this.drop(gone);
      return keep;
    });
    // Then the token hashes of what is left.
    n = 0;
    for (let s = 0; s < this.top; s++) {
      if ((s & 1023) === 0) {
        const p = pause();
        if (p) await p;
      }
      if (!(this.flags[s]! & LIVE)) continue;
      const x = this.flags[s]! & EXTRA ? this.extra.get(s) : undefined;
      if (x?.tokenHash !== undefined) this.oddHashes.set(x.tokenHash, s);
      else live[n++] = s;
    }
    this.byHash.reserve(this.live);
    const hashed = live.subarray(0, n);
    const hashKeys = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      hashKeys[i] = word(this.hash, hashed[i]! * 32);
      if ((i & 1023) === 0) {
        const p = pause();
        if (p) await p;
      }
    }
    await this.byHash.addAll(hashed, hashKeys, pause);
  }

  /** Take out a slot not (or not yet) in the indexes: a duplicate met while building them. */
  private drop(slot: number): void {
    this.pending.delete(slot);
    this.extra.delete(slot);
    this.flags[slot] = 0;
    this.live--;
    this.removedInBulk = true;
  }

  /** Everything loaded so far (with deferred indexes, by a second thread), to be appended to another table by importPart. */
  exportPart(): { part: TablePart; transfer: ArrayBuffer[] } {
    const cols = {
      idn: this.idn, created: this.created, expires: this.expires, maxUses: this.maxUses, used: this.used, creator: this.creator,
      roleSet: this.roleSet, inviterNo: this.inviterNo, kind: this.kind, flags: this.flags, hash: new Uint8Array(this.hash.buffer, this.hash.byteOffset, this.hash.length),
    };
    const part: TablePart = {
      top: this.top, live: this.live, cols, creators: this.creators, roleSets: this.roleSets,
      extra: [...this.extra], pending: [...this.pending],
    };
    return { part, transfer: [...new Set(Object.values(cols).map((c) => c.buffer as ArrayBuffer))] };
  }

  /** Append what another table read (exportPart), after everything here: slots, names and lists. Indexes are still deferred. */
  async importPart(p: TablePart, pause: () => Promise<void> | undefined): Promise<void> {
    const base = this.top;
    const n = p.top;
    if (base + n > this.cap) this.grow(base + n, true);
    const c = p.cols;
    // Copied a stretch at a time (at 10M the columns are ~0.5 GB).
    for (let from = 0; from < n; from += 1 << 16) {
      const to = Math.min(n, from + (1 << 16));
      this.idn.set(c.idn.subarray(from, to), base + from);
      this.created.set(c.created.subarray(from, to), base + from);
      this.expires.set(c.expires.subarray(from, to), base + from);
      this.maxUses.set(c.maxUses.subarray(from, to), base + from);
      this.used.set(c.used.subarray(from, to), base + from);
      this.kind.set(c.kind.subarray(from, to), base + from);
      this.flags.set(c.flags.subarray(from, to), base + from);
      this.hash.set(c.hash.subarray(from * 32, to * 32), (base + from) * 32);
      const turn = pause();
      if (turn) await turn;
    }
    const names = p.creators.map((name) => this.creatorOf(name));
    const sets = p.roleSets.map((r) => this.roleSetOf(r));
    for (let i = 0; i < n; i++) {
      this.creator[base + i] = names[c.creator[i]!]!;
      const inviter = c.inviterNo[i]!;
      this.inviterNo[base + i] = inviter ? names[inviter - 1]! + 1 : 0;
      this.roleSet[base + i] = sets[c.roleSet[i]!]!;
      if ((i & 1023) === 0) {
        const turn = pause();
        if (turn) await turn;
      }
    }
    for (const [slot, x] of p.extra) this.extra.set(base + slot, x);
    for (const slot of p.pending) this.pending.add(base + slot);
    this.top += n;
    this.live += p.live;
    for (let i = 0; i < n; i++) {
      if (this.flags[base + i]! & LIVE) this.list(base + i);
      if ((i & 1023) === 0) {
        const turn = pause();
        if (turn) await turn;
      }
    }
  }

  /**
   * End of loading: drop what was removed, merge in the invites that came out of
   * order (sorted: normally few), and make the creators' lists from the result, in
   * slices. Only the sort of those out of order is one step (all of them, for a
   * file of early versions not kept in order).
   */
  async endBulk(pause: () => Promise<void> | undefined): Promise<void> {
    const live = (s: number) => (this.flags[s]! & LIVE) !== 0;
    const late = this.late.copy().filter(live).sort((a, b) => this.cmp(a, b));
    this.late = new SlotList();
    const from = this.order;
    const merged = new SlotList(from.n + late.length);
    let j = 0;
    for (let i = 0; i < from.n; i++) {
      const s = from.a[i]!;
      if (!live(s)) continue;
      while (j < late.length && this.cmp(late[j]!, s) < 0) merged.push(late[j++]!);
      merged.push(s);
      if ((i & 1023) === 0) {
        const p = pause();
        if (p) await p;
      }
    }
    while (j < late.length) merged.push(late[j++]!);
    this.order = merged;
    this.byCreator.clear();
    for (let i = 0; i < merged.n; i++) {
      const s = merged.a[i]!;
      let mine = this.byCreator.get(this.creator[s]!);
      if (!mine) this.byCreator.set(this.creator[s]!, (mine = new SlotList()));
      mine.push(s);
      if ((i & 1023) === 0) {
        const p = pause();
        if (p) await p;
      }
    }
    if (this.removedInBulk) for (let s = 0; s < this.top; s++) if (!live(s)) this.free.push(s);
    this.removedInBulk = false;
    this.bulk = false;
  }

  /** Make room for `count` invites in all, so that loading them does not grow anything on the way. */
  reserve(count: number): void {
    if (count > this.cap) this.grow(count, true);
    this.byIdn.reserve(count);
    this.byHash.reserve(count);
    if (this.order.a.length < count) this.order.resize(count);
  }

  /** Room for `min` slots: doubling, or exactly `min` (plus 1/16) when asked for more at once (a snapshot's size). */
  private grow(min: number, exact = false): void {
    let cap = Math.max(16, this.cap);
    if (exact) cap = Math.max(cap, min + (min >> 4));
    while (cap < min) cap *= 2;
    const more = <T extends Float64Array | Uint32Array | Uint8Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(cap);
      b.set(a);
      return b;
    };
    this.idn = more(this.idn, Float64Array);
    const hash = Buffer.alloc(cap * 32);
    this.hash.copy(hash);
    this.hash = hash;
    this.created = more(this.created, Float64Array);
    this.expires = more(this.expires, Float64Array);
    this.maxUses = more(this.maxUses, Float64Array);
    this.used = more(this.used, Uint32Array);
    this.kind = more(this.kind, Uint8Array);
    this.flags = more(this.flags, Uint8Array);
    this.creator = more(this.creator, Uint32Array);
    this.roleSet = more(this.roleSet, Uint32Array);
    this.inviterNo = more(this.inviterNo, Uint32Array);
    this.cap = cap;
  }

  private newSlot(): number {
    if (!this.bulk && this.free.length) return this.free.pop()!;
    if (this.top === this.cap) this.grow(this.top + 1);
    return this.top++;
  }

  /** The creator whose name is the bytes `b[s..e)` (of FNV hash `h`): no string made for one already known. */
  private creatorAt(b: Uint8Array, s: number, e: number, h: number, utf8: boolean): number {
    const c = this.creatorByBytes.get(h);
    if (c !== undefined) {
      const known = this.creatorBytes[c]!;
      if (known.length === e - s && at(b, s, known)) return c;
    }
    const name = Buffer.prototype.toString.call(b, utf8 ? 'utf8' : 'latin1', s, e);
    const n = this.creatorOf(name);
    if (c === undefined) this.creatorByBytes.set(h, n);
    return n;
  }

  private creatorOf(by: string): number {
    let c = this.creatorNo.get(by);
    if (c === undefined) {
      c = this.creators.length;
      this.creators.push(by);
      this.quotedCreators.push(JSON.stringify(by));
      this.creatorBytes.push(Buffer.from(by));
      this.creatorNo.set(by, c);
    }
    return c;
  }

  private roleSetOf(roles: readonly string[]): number {
    if (roles.length === 0) return 0;
    const key = JSON.stringify(roles);
    let r = this.roleSetNo.get(key);
    if (r === undefined) {
      r = this.roleSets.length;
      this.roleSets.push(Object.freeze(roles.slice()) as Role[]);
      this.roleSetNo.set(key, r);
    }
    return r;
  }

  /** Store `inv` (a new invite, or the new state of the one with its id); returns its slot. */
  set(inv: Invite): number {
    const v = inv as unknown as Record<string, unknown>;
    const id = String(inv.id);
    let slot = this.slotOf(id);
    const fresh = slot < 0;
    const by = this.creatorOf(String(inv.createdBy));
    const ms = isoMs(inv.createdAt);
    let listed = false;
    if (fresh) {
      slot = this.newSlot();
    } else {
      // Same id: where it is listed changes only if its time or creator did (never, through change()).
      const moved = this.creator[slot] !== by || !Object.is(this.created[slot], ms)
        || (Number.isNaN(ms) && this.extra.get(slot)?.odd?.createdAt !== inv.createdAt);
      this.unindexHash(slot);
      if (moved) this.unlist(slot);
      listed = !moved;
    }

    const x: Extra = {};
    let hasExtra = false;
    const odd: NonNullable<Extra['odd']> = {};
    let hasOdd = false;

    const n = packId(id);
    this.idn[slot] = n;
    if (n < 0) {
      x.id = id;
      hasExtra = true;
    }
    const hashOk = typeof inv.tokenHash === 'string' && decodeHash(inv.tokenHash);
    if (hashOk) hashBuf.copy(this.hash, slot * 32);
    else {
      this.hash.fill(0, slot * 32, slot * 32 + 32);
      x.tokenHash = String(inv.tokenHash);
      hasExtra = true;
    }
    const k = KINDS.indexOf(inv.kind);
    this.kind[slot] = k < 0 ? ODD_KIND : k;
    if (k < 0) { odd.kind = inv.kind; hasOdd = true; }
    this.creator[slot] = by;
    this.roleSet[slot] = Array.isArray(inv.roles) && inv.roles.every((r) => typeof r === 'string') ? this.roleSetOf(inv.roles) : 0;
    if (typeof inv.maxUses === 'number') this.maxUses[slot] = inv.maxUses;
    else { odd.maxUses = inv.maxUses; hasOdd = true; }
    this.created[slot] = ms;
    if (Number.isNaN(ms)) { odd.createdAt = inv.createdAt; hasOdd = true; }
    const exp = isoMs(inv.expiresAt);
    this.expires[slot] = exp;
    if (Number.isNaN(exp)) { odd.expiresAt = inv.expiresAt; hasOdd = true; }
    let f = LIVE;
    let used = 0;
    const uses = Array.isArray(inv.uses) ? inv.uses : [];
    if (uses.length) {
      x.uses = structuredClone(uses);
      hasExtra = true;
      for (const u of uses) {
        if (u.pending) f |= PENDING;
        else used++;
      }
    }
    this.used[slot] = used;
    if (inv.revokedAt !== undefined) {
      x.revokedAt = inv.revokedAt;
      hasExtra = true;
      if (inv.revokedAt) f |= REVOKED;
    }
    this.inviterNo[slot] = typeof inv.inviter === 'string' ? this.creatorOf(inv.inviter) + 1 : 0;
    if (inv.inviter !== undefined && typeof inv.inviter !== 'string') { x.inviter = inv.inviter; hasExtra = true; }
    if (inv.username !== undefined) { x.username = inv.username; hasExtra = true; }
    for (const key of Object.keys(v)) {
      if (KNOWN.has(key) || v[key] === undefined) continue;
      (x.rest ??= {})[key] = structuredClone(v[key]);
      hasExtra = true;
    }
    if (!Array.isArray(inv.roles) || !inv.roles.every((r) => typeof r === 'string')) {
      (x.rest ??= {}).roles = structuredClone(inv.roles);
      hasExtra = true;
    }
    if (hasOdd) { x.odd = odd; hasExtra = true; }
    if (hasExtra) {
      f |= EXTRA;
      this.extra.set(slot, x);
    } else this.extra.delete(slot);
    this.flags[slot] = f;
    if (f & PENDING) this.pending.add(slot);
    else this.pending.delete(slot);

    if (this.deferred) {
      // The indexes are built once the snapshot is in (buildIndexes).
      if (fresh) this.live++;
    } else {
      if (hashOk) this.byHash.add(slot, word(this.hash, slot * 32));
      else this.oddHashes.set(x.tokenHash!, slot);
      if (fresh) {
        if (n >= 0) this.byIdn.add(slot, idHash(n));
        else this.oddIds.set(id, slot);
        this.live++;
      }
    }
    if (!listed) this.list(slot);
    return slot;
  }

  /**
   * Read one invite straight from `b[start..end)`: its JSON without the closing brace,
   * in the order `inviteJson` writes (no uses, no escapes). False, having changed
   * nothing, for anything else: the caller parses it then.
   */
  loadCanonical(b: Uint8Array, start: number, end: number): boolean {
    let p = start;
    if (!at(b, p, L_ID)) return false;
    p += 7;
    const idEnd = strEnd(b, p, end);
    if (idEnd !== p + 8) return false;
    const n = packIdAt(b, p);
    if (n < 0) return false;
    p = idEnd;
    if (!at(b, p, L_HASH)) return false;
    p += 15;
    // Decoded where a new slot's hash goes (nothing is there yet), else into hashBuf.
    if (this.top === this.cap) this.grow(this.top + 1);
    const direct = this.bulk;
    if (b[p + 43] !== 34 || !hashAt(b, p, direct ? this.hash : hashBuf, direct ? this.top * 32 : 0)) return false;
    p += 43;
    if (!at(b, p, L_KIND)) return false;
    p += 10;
    let e = strEnd(b, p, end);
    if (e < 0) return false;
    let k = -1;
    for (let i = 0; i < KINDS.length && k < 0; i++) {
      const kb = KIND_BYTES[i]!;
      if (e - p === kb.length && at(b, p, kb)) k = i;
    }
    if (k < 0) return false;
    p = e;
    if (!at(b, p, L_BY)) return false;
    p += 15;
    e = strEnd(b, p, end);
    if (e < 0) return false;
    const byHi = hi;
    const byStart = p;
    const byEnd = e;
    const byHash = strHash;
    p = e;
    let inviter = 0;
    let username: string | undefined;
    if (at(b, p, L_INVITER)) {
      p += 13;
      e = strEnd(b, p, end);
      if (e < 0) return false;
      inviter = this.creatorAt(b, p, e, strHash, hi) + 1;
      p = e;
    }
    if (at(b, p, L_USERNAME)) {
      p += 14;
      e = strEnd(b, p, end);
      if (e < 0) return false;
      username = Buffer.prototype.toString.call(b, hi ? 'utf8' : 'latin1', p, e);
      p = e;
    }
    if (!at(b, p, L_ROLES)) return false;
    p += 11;
    let roleSet = 0;
    if (b[p] !== 93) {
      const close = b.indexOf(93, p);
      if (close < 0 || close >= end) return false;
      let roles: unknown;
      try { roles = JSON.parse(Buffer.prototype.toString.call(b, 'utf8', p - 1, close + 1)); } catch { return false; }
      if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) return false;
      roleSet = this.roleSetOf(roles as string[]);
      p = close;
    }
    if (!at(b, p, L_MAX)) return false;
    p += 12;
    let max = 0;
    const m0 = p;
    while (p < end && b[p]! >= 48 && b[p]! <= 57 && p - m0 < 15) max = max * 10 + b[p++]! - 48;
    if (p === m0 || (b[m0] === 48 && p > m0 + 1)) return false;
    if (!at(b, p, L_USES)) return false;
    p += 10;
    if (!at(b, p, L_CREATED)) return false;
    p += 14;
    const created = b[p + 24] === 34 ? isoAt(b, p) : NaN;
    if (Number.isNaN(created)) return false;
    p += 24;
    if (!at(b, p, L_EXPIRES)) return false;
    p += 15;
    const expires = b[p + 24] === 34 ? isoAt(b, p) : NaN;
    if (Number.isNaN(expires)) return false;
    p += 24;
    let revokedAt: string | undefined;
    if (at(b, p, L_REVOKED)) {
      p += 15;
      e = strEnd(b, p, end);
      if (e < 0) return false;
      revokedAt = Buffer.prototype.toString.call(b, 'latin1', p, e);
      p = e;
    }
    if (p + 1 !== end || b[p] !== 34) return false;

    // Whole and canonical: into the columns.
    let slot = this.deferred ? -1 : this.slotOfPacked(n);
    const by = this.creatorAt(b, byStart, byEnd, byHash, byHi);
    if (slot >= 0) {
      // The new state of a known invite (a journal line): the general path.
      if (direct) this.hash.copy(hashBuf, 0, this.top * 32, this.top * 32 + 32);
      const inv = this.invite(slot);
      Object.assign(inv, { roles: this.roleSets[roleSet]!.slice(), maxUses: max, uses: [], createdAt: new Date(created).toISOString(), expiresAt: new Date(expires).toISOString() });
      inv.kind = KINDS[k]!;
      inv.tokenHash = Buffer.from(hashBuf).toString('base64url');
      inv.createdBy = this.creators[by]!;
      delete inv.inviter;
      delete inv.username;
      delete inv.revokedAt;
      if (inviter) inv.inviter = this.creators[inviter - 1]!;
      if (username !== undefined) inv.username = username;
      if (revokedAt !== undefined) inv.revokedAt = revokedAt;
      this.set(inv);
      return true;
    }
    slot = this.newSlot();
    this.idn[slot] = n;
    if (!direct) hashBuf.copy(this.hash, slot * 32);
    this.kind[slot] = k;
    this.creator[slot] = by;
    this.roleSet[slot] = roleSet;
    this.inviterNo[slot] = inviter;
    this.maxUses[slot] = max;
    this.used[slot] = 0;
    this.created[slot] = created;
    this.expires[slot] = expires;
    let f = LIVE;
    if (username !== undefined || revokedAt !== undefined) {
      const x: Extra = {};
      if (username !== undefined) x.username = username;
      if (revokedAt !== undefined) {
        x.revokedAt = revokedAt;
        if (revokedAt) f |= REVOKED;
      }
      this.extra.set(slot, x);
      f |= EXTRA;
    } // (a new slot has no extra: remove() dropped a reused slot's)
    this.flags[slot] = f;
    if (!this.deferred) {
      this.byHash.add(slot, word(this.hash, slot * 32));
      this.byIdn.put(this.idGap, slot, idHash(n)); // found empty by slotOfPacked above; nothing changed the index since
    }
    this.live++;
    this.list(slot);
    return true;
  }

  /** Take the invite out (the archive). In bulk, lists are cleaned once at the end. */
  remove(slot: number): void {
    if (!(this.flags[slot]! & LIVE)) return;
    this.unindexHash(slot);
    const x = this.extra.get(slot);
    if (x?.id !== undefined) this.oddIds.delete(x.id);
    else this.byIdn.remove(slot, idHash(this.idn[slot]!));
    this.pending.delete(slot);
    this.extra.delete(slot);
    this.flags[slot] = 0;
    this.live--;
    if (this.bulk) this.removedInBulk = true;
  }

  /** Take these invites out, and out of the lists in one pass each. */
  removeMany(slots: readonly number[]): void {
    const gone = new Set<number>();
    for (const s of slots) {
      if (!(this.flags[s]! & LIVE)) continue;
      gone.add(s);
      this.remove(s);
    }
    if (this.bulk || gone.size === 0) return;
    const keep = (s: number) => !gone.has(s);
    this.order.filter(keep);
    for (const [c, list] of this.byCreator) {
      list.filter(keep);
      if (list.n === 0) this.byCreator.delete(c);
    }
    if (this.held) this.held.push(...gone);
    else this.free.push(...gone);
  }

  isLive(slot: number): boolean {
    return (this.flags[slot]! & LIVE) !== 0;
  }

  private unindexHash(slot: number): void {
    const x = this.extra.get(slot);
    if (x?.tokenHash !== undefined) this.oddHashes.delete(x.tokenHash);
    else this.byHash.remove(slot, word(this.hash, slot * 32));
  }

  /** Into the list of all and its creator's, in order (appended when loading). */
  private list(slot: number): void {
    if (this.bulk) {
      // Loading: the list of all only, in order, or aside when out of it (merged in by endBulk, which also makes the creators' lists).
      const l = this.order;
      if (l.n === 0 || this.cmp(l.a[l.n - 1]!, slot) < 0) l.push(slot);
      else this.late.push(slot);
      return;
    }
    let mine = this.byCreator.get(this.creator[slot]!);
    if (!mine) this.byCreator.set(this.creator[slot]!, (mine = new SlotList()));
    this.listIn(this.order, slot);
    this.listIn(mine, slot);
  }

  private listIn(l: SlotList, slot: number): void {
    if (l.n === 0 || this.cmp(l.a[l.n - 1]!, slot) < 0) l.push(slot);
    else l.insertAt(this.firstAfterSlot(l, slot), slot);
  }

  private unlist(slot: number): void {
    if (this.bulk) {
      // (Rare: a journal line that moves an invite.) Out of wherever it is.
      for (const l of [this.order, this.late]) {
        const i = l.a.subarray(0, l.n).indexOf(slot);
        if (i >= 0) l.removeAt(i);
      }
      return;
    }
    const mine = this.byCreator.get(this.creator[slot]!);
    for (const l of mine ? [this.order, mine] : [this.order]) {
      let i = this.bulk ? -1 : this.firstAfterSlot(l, slot) - 1;
      if (l.a[i] !== slot) i = l.a.subarray(0, l.n).indexOf(slot);
      if (i >= 0) l.removeAt(i);
    }
    if (mine && mine.n === 0) this.byCreator.delete(this.creator[slot]!);
  }

  private firstAfterSlot(l: SlotList, slot: number): number {
    let lo = 0;
    let hi = l.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cmp(l.a[mid]!, slot) > 0) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private createdAtOf(slot: number): string {
    const ms = this.created[slot]!;
    return Number.isNaN(ms) ? String(this.extra.get(slot)?.odd?.createdAt) : new Date(ms).toISOString();
  }

  private idOf(slot: number): string {
    return this.extra.get(slot)?.id ?? unpackId(this.idn[slot]!);
  }

  /** List order: creation time, then id (as the strings compare). */
  private cmp(a: number, b: number): number {
    const ca = this.created[a]!;
    const cb = this.created[b]!;
    if (ca === ca && cb === cb) {
      if (ca !== cb) return ca < cb ? -1 : 1;
    } else {
      const sa = this.createdAtOf(a);
      const sb = this.createdAtOf(b);
      if (sa !== sb) return sa < sb ? -1 : 1;
    }
    const ia = this.idn[a]!;
    const ib = this.idn[b]!;
    if (ia >= 0 && ib >= 0) return ia < ib ? -1 : ia > ib ? 1 : 0;
    const sa = this.idOf(a);
    const sb = this.idOf(b);
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  }

  private cmpKey(a: number, k: Key): number {
    const ca = this.created[a]!;
    if (ca === ca && k.ms === k.ms) {
      if (ca !== k.ms) return ca < k.ms ? -1 : 1;
    } else {
      const sa = this.createdAtOf(a);
      if (sa !== k.createdAt) return sa < k.createdAt ? -1 : 1;
    }
    const ia = this.idn[a]!;
    if (ia >= 0 && k.idn >= 0) return ia < k.idn ? -1 : ia > k.idn ? 1 : 0;
    const sa = this.idOf(a);
    return sa < k.id ? -1 : sa > k.id ? 1 : 0;
  }
}

export function isInvite(x: unknown): x is Invite {
  const inv = x as Partial<Invite> | null;
  return typeof inv?.id === 'string' && typeof inv.tokenHash === 'string' && Array.isArray(inv.uses);
}

/** Read the invite at `buf[start..end)` (its JSON without the closing brace) into `table`: from the bytes when canonical, else by JSON.parse. Throws if it is no invite. */
export function loadInvite(table: InviteTable, buf: Buffer, start: number, end: number): void {
  if (table.loadCanonical(buf, start, end)) return;
  const inv: unknown = JSON.parse(`${buf.toString('utf8', start, end)}}`);
  if (!isInvite(inv)) throw new Error('it is not an invite');
  table.set(inv);
}

/** What a second thread read of a snapshot, in columns (their buffers transferred, not copied), for importPart. */
export interface TablePart {
  top: number;
  live: number;
  cols: Record<'idn' | 'created' | 'expires' | 'maxUses', Float64Array> & Record<'used' | 'creator' | 'roleSet' | 'inviterNo', Uint32Array>
    & Record<'kind' | 'flags' | 'hash', Uint8Array>;
  creators: string[];
  roleSets: Role[][];
  extra: [number, Extra][];
  pending: number[];
}

/** An invite's JSON with its fields in the order `loadCanonical` reads fastest (unknown ones last). */
export function inviteJson(inv: Invite): string {
  const v = inv as unknown as Record<string, unknown>;
  const o: Record<string, unknown> = {};
  for (const k of KNOWN) if (k in v) o[k] = v[k];
  for (const k of Object.keys(v)) if (!KNOWN.has(k)) o[k] = v[k];
  return JSON.stringify(o);
}

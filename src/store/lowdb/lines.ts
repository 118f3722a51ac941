// Reading the store's files a chunk at a time: lines come out as byte ranges of a
// reused buffer (no one string of the whole file, so no ceiling at V8's largest
// string), and the reader gives way to the event loop every few milliseconds of
// work, so a start-up over a million lines never holds other callbacks up for long.
import { type FileHandle, open } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { yieldToLoop } from './fs-sync.js';

/** Bytes read per call: a few thousand lines of the store's files. */
const CHUNK = 1 << 20;
/** Work between turns of the event loop, at most (checked every few hundred lines): GC pauses and a busy machine come on top. */
const SLICE_MS = 5;

/**
 * Called with one line, `buf[start..end)` without its newline, numbered from 1. The
 * buffer is reused: copy what you keep. It may throw, which ends the read.
 */
export type OnLine = (buf: Buffer, start: number, end: number, line: number) => void;

export interface LinesRead {
  /** Lines ending in a newline. */
  lines: number;
  /** Bytes up to and including the last newline. */
  wholeBytes: number;
  /** What follows the last newline (empty when the file ends with one). */
  tail: Buffer;
}

/** Gives way to the loop once `SLICE_MS` have gone by since the last time. */
export class Pacer {
  private last = performance.now();
  private n = 0;

  /** Call per item; resolves at once (no await needed) most of the time. */
  tick(): Promise<void> | undefined {
    if ((++this.n & 255) !== 0) return undefined;
    const now = performance.now();
    if (now - this.last < SLICE_MS) return undefined;
    return yieldToLoop().then(() => { this.last = performance.now(); });
  }

  /** For loops that ask every thousand items or so: the clock read at each call. */
  due(): Promise<void> | undefined {
    if (performance.now() - this.last < SLICE_MS) return undefined;
    return yieldToLoop().then(() => { this.last = performance.now(); });
  }
}

/** Open `path` for reading, or null when there is none. */
export async function openIfThere(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Every whole line of `fh` from byte `from` (up to byte `to`), in order, to `onLine`. */
export async function eachLine(fh: FileHandle, onLine: OnLine, from = 0, to = Infinity): Promise<LinesRead> {
  const buf = Buffer.allocUnsafe(CHUNK);
  const pacer = new Pacer();
  /** The start of a line that goes on in the next chunk (copies: `buf` is reused). */
  let carry: Buffer[] = [];
  let pos = from;
  let lines = 0;
  let wholeBytes = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, to - pos), pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    const view = bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead);
    let s = 0;
    if (carry.length) {
      const nl = view.indexOf(10);
      if (nl < 0) {
        carry.push(Buffer.from(view));
        continue;
      }
      carry.push(view.subarray(0, nl));
      const line = Buffer.concat(carry);
      carry = [];
      onLine(line, 0, line.length, ++lines);
      wholeBytes += line.length + 1;
      s = nl + 1;
    }
    for (;;) {
      const nl = view.indexOf(10, s);
      if (nl < 0) break;
      onLine(view, s, nl, ++lines);
      wholeBytes += nl - s + 1;
      s = nl + 1;
      const turn = pacer.tick();
      if (turn) await turn;
    }
    if (s < bytesRead) carry.push(Buffer.from(view.subarray(s)));
  }
  return { lines, wholeBytes: wholeBytes + from, tail: carry.length ? Buffer.concat(carry) : Buffer.alloc(0) };
}

/** The byte after the first newline at or after `at`, or -1. */
export async function nextLineStart(fh: FileHandle, at: number): Promise<number> {
  const buf = Buffer.allocUnsafe(64 << 10);
  for (let pos = at; ;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) return -1;
    const nl = buf.subarray(0, bytesRead).indexOf(10);
    if (nl >= 0) return pos + nl + 1;
    pos += bytesRead;
  }
}

// One writer per store file, by a kernel lock: flock(2) on STORE_FILE.lock, held
// on an open descriptor for as long as the writer lives. The kernel lets go when
// the process ends, however it ends (kill -9 included), so there is no stale lock
// to judge: not by a PID that may be reused (PID 1 in a container after a restart
// is the same number), not by an empty file, and two starts at once cannot both
// win, since the kernel decides. The file's text (the holder's PID) is only for
// the message that names who holds it.
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { flockSync } from 'fs-ext';
import { ensurePrivateDir } from '../../private-files.js';

export class StoreLockedError extends Error {
  constructor(readonly file: string, readonly pid: number | undefined) {
    super(`${file} is in use by ${pid ? `process ${pid}` : 'another process'}`);
  }
}

export class WriterLock {
  private constructor(readonly path: string, private fd: number | undefined) {}

  static async acquire(storeFile: string): Promise<WriterLock> {
    const path = `${storeFile}.lock`;
    ensurePrivateDir(dirname(storeFile));
    // Not truncated on open: the holder's PID stays readable for the message below.
    const fd = openSync(path, 'a+', 0o600);
    try {
      flockSync(fd, 'exnb');
    } catch (e) {
      closeSync(fd);
      if ((e as NodeJS.ErrnoException).code !== 'EWOULDBLOCK' && (e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      // A holder that has only just won writes its PID a moment after its flock: wait for it briefly.
      let pid: number | undefined;
      for (let i = 0; i < 10 && !(pid = Number(readFileSync(path, 'utf8').trim()) || undefined); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new StoreLockedError(storeFile, pid);
    }
    // Ours now: say who holds it (a full disk leaves it empty, which nobody trusts anyway).
    try {
      ftruncateSync(fd, 0);
      writeSync(fd, String(process.pid), 0);
    } catch {
      // Informational only.
    }
    return new WriterLock(path, fd);
  }

  /** Let go (the file stays: removing it would let a second writer lock a new file while a third holds the old one). */
  async release(): Promise<void> {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      ftruncateSync(fd, 0);
    } catch {
      // Informational only.
    }
    closeSync(fd); // closing the last descriptor releases the flock
  }
}

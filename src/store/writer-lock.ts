// One writer per store file: a lock file holding the owner's PID. A lock whose
// process is gone (crash, kill -9) is taken over at once, which a time-based
// stale check could not do. Known limit: two processes taking over the same
// stale lock within microseconds could both succeed (unlink then create);
// a rename-based takeover would close that window.
import { open, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensurePrivateDir } from '../private-files.js';

export class StoreLockedError extends Error {
  constructor(readonly file: string, readonly pid: number) {
    super(`${file} is in use by process ${pid}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class WriterLock {
  private constructor(readonly path: string) {}

  static async acquire(storeFile: string): Promise<WriterLock> {
    const path = `${storeFile}.lock`;
    ensurePrivateDir(dirname(storeFile));
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fh = await open(path, 'wx', 0o600);
        await fh.writeFile(String(process.pid));
        await fh.close();
        return new WriterLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      // An empty file is a lock being written this instant: try again.
      if (pid && alive(pid)) throw new StoreLockedError(storeFile, pid);
      if (pid) await unlink(path).catch(() => {});
      else await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`could not lock ${storeFile}`);
  }

  async release(): Promise<void> {
    await unlink(this.path).catch(() => {});
  }
}

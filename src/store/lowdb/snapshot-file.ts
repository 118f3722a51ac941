// The snapshot: the lowdb JSON document of the store, read and written through
// lowdb's Adapter interface. Written in slices to a temp file, fsynced, then
// renamed over the old one: a crash leaves the old or the new file, and no
// single JSON.stringify of 100k invites stalls the event loop (~120 ms).
import { open, readFile, rename, unlink } from 'node:fs/promises';
import type { Adapter } from 'lowdb';
import type { Invite, Role } from '../../invites/types.js';
import { StoreCorruptError } from '../corrupt.js';
import { syncDirOf } from './fs-sync.js';

export interface StoreData {
  version: 1;
  invites: Invite[];
  /** Roles granted by invites (e.g. accounts created from an admin invite). */
  roles: Record<string, Role[]>;
}

/** Invites per write: ~0.1 ms of JSON.stringify, then the loop is free again (500 measured worse for creators). */
const SLICE = 100;
/** Bytes written between syncs of the temp file: no one long flush at the end for the journal's syncs to queue behind. */
const SYNC_EVERY = 1 << 20;

export class SnapshotFile implements Adapter<StoreData> {
  /** Size of the file last read or written. */
  bytes = 0;

  constructor(readonly path: string) {}

  async read(): Promise<StoreData | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    this.bytes = Buffer.byteLength(text);
    try {
      const d = JSON.parse(text) as StoreData;
      if (d?.version !== 1 || !Array.isArray(d.invites)) throw new Error('not an invite store');
      d.roles ??= {};
      return d;
    } catch (e) {
      // Never overwrite a file we cannot read: the admin must look at it.
      throw new StoreCorruptError(`${this.path} is not a readable invite store (${(e as Error).message}); move it away or repair it`);
    }
  }

  /**
   * Write `data` as it is now. Invites changed while the slices are written may
   * land in either state: the journal replays their latest state over it.
   */
  async write(data: StoreData): Promise<void> {
    const invites = data.invites.slice();
    const tail = `],"roles":${JSON.stringify(data.roles)}}`;
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
      await put('{"version":1,"invites":[');
      for (let i = 0; i < invites.length; i += SLICE) {
        const part = invites.slice(i, i + SLICE).map((inv) => JSON.stringify(inv)).join(',');
        await put(i === 0 ? part : `,${part}`);
      }
      await put(tail);
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

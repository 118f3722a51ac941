// The invite store: one lowdb JSON file, one writer (see writer-lock.ts).
// Reads come from in-memory indexes; every change is written with lowdb's
// atomic write-temp-then-rename, coalesced so a burst costs one write.
import { appendFile, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import type { Invite, Role } from '../invites/types.js';

export interface StoreData {
  version: 1;
  invites: Invite[];
  /** Roles granted by invites (e.g. accounts created from an admin invite). */
  roles: Record<string, Role[]>;
}

export class StoreCorruptError extends Error {}

const empty = (): StoreData => ({ version: 1, invites: [], roles: {} });

export class InviteStore {
  private readonly byHash = new Map<string, Invite>();
  private readonly byId = new Map<string, Invite>();
  private pending: Promise<void> | null = null;
  private lastWrite: Promise<void> = Promise.resolve();

  private constructor(private readonly db: Low<StoreData>, readonly file: string) {
    for (const inv of db.data.invites) this.index(inv);
  }

  static async open(file: string): Promise<InviteStore> {
    await mkdir(dirname(file), { recursive: true });
    const adapter = new DataFile<StoreData>(file, {
      // Compact JSON: the file is for the program; a pretty one is twice the bytes to write.
      stringify: (d) => JSON.stringify(d),
      parse: (text) => {
        try {
          const d = JSON.parse(text) as StoreData;
          if (d?.version !== 1 || !Array.isArray(d.invites)) throw new Error('not an invite store');
          d.roles ??= {};
          return d;
        } catch (e) {
          // Never overwrite a file we cannot read: the admin must look at it.
          throw new StoreCorruptError(`${file} is not a readable invite store (${(e as Error).message}); move it away or repair it`);
        }
      },
    });
    const db = new Low<StoreData>(adapter, empty());
    await db.read();
    return new InviteStore(db, file);
  }

  private index(inv: Invite): void {
    this.byHash.set(inv.tokenHash, inv);
    this.byId.set(inv.id, inv);
  }

  get(id: string): Invite | undefined {
    return this.byId.get(id);
  }

  findByHash(hash: string): Invite | undefined {
    return this.byHash.get(hash);
  }

  all(): readonly Invite[] {
    return this.db.data.invites;
  }

  roles(jid: string): readonly Role[] {
    return this.db.data.roles[jid] ?? [];
  }

  anyoneWithRole(role: Role): boolean {
    return Object.values(this.db.data.roles).some((r) => r.includes(role));
  }

  /** Add an invite and persist it; resolves once it is on disk. */
  add(inv: Invite): Promise<void> {
    this.db.data.invites.push(inv);
    this.index(inv);
    return this.save();
  }

  grantRoles(jid: string, roles: readonly Role[]): Promise<void> {
    const have = new Set(this.db.data.roles[jid] ?? []);
    for (const r of roles) have.add(r);
    this.db.data.roles[jid] = [...have];
    return this.save();
  }

  /**
   * Persist the current state. Callers mutate invites in place, then await this:
   * all changes made in the same tick share one write.
   */
  save(): Promise<void> {
    this.pending ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.pending = null;
        this.lastWrite = this.db.write();
        this.lastWrite.then(resolve, reject);
      });
    });
    return this.pending;
  }

  /**
   * Move invites that ended before `cutoff` (used up, expired or revoked) out of
   * the live file into an append-only JSON-lines archive beside it, so the live
   * file only grows with invites that can still matter. A crash between the
   * append and the save leaves a duplicate archive line, never a lost invite.
   */
  async archive(isEnded: (inv: Invite) => boolean): Promise<number> {
    const ended = this.db.data.invites.filter(isEnded);
    if (ended.length === 0) return 0;
    const archiveFile = this.file.replace(/(\.json)?$/, '.archive.jsonl');
    await appendFile(archiveFile, ended.map((i) => JSON.stringify(i) + '\n').join(''));
    const fh = await open(archiveFile, 'r');
    try { await fh.sync(); } finally { await fh.close(); }
    const gone = new Set(ended);
    this.db.data.invites = this.db.data.invites.filter((i) => !gone.has(i));
    for (const inv of ended) {
      this.byHash.delete(inv.tokenHash);
      this.byId.delete(inv.id);
    }
    await this.save();
    return ended.length;
  }

  /** Wait for every write asked for so far. */
  async flush(): Promise<void> {
    while (this.pending) await this.pending;
    await this.lastWrite;
  }
}

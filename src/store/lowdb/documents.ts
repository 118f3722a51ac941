// The lowdb store's small documents (groups, API keys): one JSON file beside the
// invites, read whole at start, rewritten whole on each change (a temp file,
// synced, renamed over the old one, the folder synced), so a change is either all
// there or not at all. They change rarely (an admin's command), so a rewrite is cheap.
import { open, readFile, rename } from 'node:fs/promises';
import { PRIVATE_FILE } from '../../private-files.js';
import { StoreCorruptError } from '../corrupt.js';
import type { DocName } from '../store.js';
import { syncDirOf } from './fs-sync.js';

export class DocumentFile {
  private constructor(
    readonly path: string,
    private docs: Partial<Record<DocName, unknown>>,
  ) {}

  /** `invites.json` keeps its documents in `invites.docs.json`. */
  static pathFor(storeFile: string): string {
    return storeFile.replace(/(\.json)?$/, '.docs.json');
  }

  static async open(storeFile: string): Promise<DocumentFile> {
    const path = DocumentFile.pathFor(storeFile);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new DocumentFile(path, {});
      throw e;
    }
    let docs: unknown;
    try {
      docs = JSON.parse(text);
    } catch {
      throw new StoreCorruptError(`${path} is not JSON; move it away or repair it`);
    }
    if (typeof docs !== 'object' || docs === null || Array.isArray(docs)) throw new StoreCorruptError(`${path} is not an object of documents`);
    return new DocumentFile(path, docs as Record<DocName, unknown>);
  }

  get(name: DocName): unknown {
    const d = this.docs[name];
    return d === undefined ? undefined : structuredClone(d);
  }

  /** Store `doc` as `name`; resolves once it is durable. A failed write changes nothing. Callers change one document at a time (the store's queue). */
  async put(name: DocName, doc: unknown): Promise<void> {
    const next = { ...this.docs, [name]: structuredClone(doc) };
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, 'w', PRIVATE_FILE);
    try {
      await fh.writeFile(`${JSON.stringify(next, null, 1)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
    // On disk now: memory follows, so a failed folder sync cannot have the next change write the old state back.
    this.docs = next;
    await syncDirOf(this.path);
  }
}

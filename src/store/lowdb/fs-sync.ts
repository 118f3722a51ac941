// fsync helpers: a rename or a new file is durable only once its directory is synced.
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}

export function syncDirOf(path: string): Promise<void> {
  return syncFile(dirname(path));
}

/** Let other callbacks run: long jobs give way between slices so no caller waits on them. */
export const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

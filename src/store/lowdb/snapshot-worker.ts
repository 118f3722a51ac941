// The second thread of a snapshot's read (snapshot-file.ts): reads the lines from
// a given byte to the end into a table of its own, and hands its columns back
// (their buffers transferred, not copied). Indexes are built by the store after.
import { open } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { InviteTable } from './invite-table.js';
import { LineFault, readLineRange } from './snapshot-file.js';

const { path, from, size } = workerData as { path: string; from: number; size: number };
const table = new InviteTable();
table.beginBulk(0, true);
table.reserve(Math.ceil(size / 2) + 1024);
const fh = await open(path, 'r');
try {
  const ok = await readLineRange(fh, table, from, Infinity, undefined);
  const { part, transfer } = table.exportPart();
  parentPort!.postMessage({ ok, part }, transfer);
} catch (e) {
  if (e instanceof LineFault) parentPort!.postMessage({ fault: { line: e.line, why: e.message } });
  else parentPort!.postMessage({ fatal: String((e as Error).stack ?? e) });
} finally {
  await fh.close();
}

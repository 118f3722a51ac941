// Child process of the PostgreSQL store tests and benchmark 5: opens its own
// PostgresStore (its own pool) on argv[2], prints "ready", waits for "go" on stdin,
// then makes argv[4] concurrent "take the last use" changes of invite argv[3], and
// prints one JSON line {"wins": n} before closing the store and exiting.
import { createInterface } from 'node:readline';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';

const [url, id, count] = process.argv.slice(2);
const store = await PostgresStore.open(url!);
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.on('line', (l) => { if (l.trim() === 'go') resolve(); }));
lines.close();
const results = await Promise.all(Array.from({ length: Number(count) }, (_, i) => store.change(id!, (d) => {
  if (d.uses.length >= d.maxUses) return { write: false, value: false };
  d.uses.push({ jid: `child${process.pid}-${i}@example.org`, at: new Date().toISOString() });
  return { write: true, value: true };
})));
process.stdout.write(JSON.stringify({ wins: results.filter((r) => r?.value === true).length }) + '\n');
await store.close();

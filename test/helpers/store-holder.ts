// Child process of the writer-lock tests: opens the store at argv[2], prints
// "open PID" (or "locked: MESSAGE" and exits 3), then holds it until killed or
// until argv[3] milliseconds have passed, and closes it.
import { LowdbStore } from '../../src/store/lowdb/lowdb-store.js';
import { StoreLockedError } from '../../src/store/lowdb/writer-lock.js';

const [file, holdMs = '60000'] = process.argv.slice(2);
try {
  const store = await LowdbStore.open(file!);
  process.stdout.write(`open ${process.pid}\n`);
  await new Promise((r) => setTimeout(r, Number(holdMs)));
  await store.close();
} catch (e) {
  if (!(e instanceof StoreLockedError)) throw e;
  process.stdout.write(`locked: ${e.message}\n`);
  process.exit(3);
}

// Child process of the store's kill -9 test: opens the store given as argv[2]
// (compacting every argv[3] journal bytes) and, in 8 loops at once, creates
// invites and consumes every other one, printing "created TOKEN" / "used TOKEN"
// only after that change resolved, until it is killed.
import { InviteService } from '../../src/invites/service.js';
import { LowdbStore } from '../../src/store/lowdb/lowdb-store.js';
import { baseSettings } from './core.js';

const ADMIN = { jid: 'boss@example.org' };

async function loop(service: InviteService, w: number): Promise<never> {
  for (let i = 0; ; i++) {
    const c = await service.create(ADMIN, { kind: 'account' });
    if (!c.ok) throw new Error(c.message);
    process.stdout.write(`created ${c.token}\n`);
    if (i % 2) continue;
    const r = await service.reserve(c.token, { purpose: 'register', username: `w${w}n${i}` });
    if (!r.ok) throw new Error(r.message);
    const done = await service.commit(r.reservation, `w${w}n${i}@example.org`);
    if (!done.ok) throw new Error(done.message);
    process.stdout.write(`used ${c.token}\n`);
  }
}

async function main(): Promise<void> {
  const [file, compactAt] = process.argv.slice(2);
  const store = await LowdbStore.open(file!, { compactAt: Number(compactAt) });
  const service = new InviteService(store, baseSettings);
  process.stdout.write('ready\n');
  await Promise.all(Array.from({ length: 8 }, (_, w) => loop(service, w)));
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});

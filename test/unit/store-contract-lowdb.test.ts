// The store contract (test/contract/store-contract.ts) on the lowdb store, in a temp dir.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LowdbStore } from '../../src/store/lowdb/lowdb-store.js';
import type { InviteStore } from '../../src/store/store.js';
import { storeContract } from '../contract/store-contract.js';

storeContract('lowdb', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'invites-contract-'));
  const file = join(dir, 'invites.json');
  let store: InviteStore = await LowdbStore.open(file);
  return {
    store,
    async reopen() {
      await store.close();
      store = await LowdbStore.open(file);
      return store;
    },
    async cleanup() {
      await store.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
});

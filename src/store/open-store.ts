// Which store the configuration asks for: PostgreSQL when STORE_URL names one,
// else the lowdb files (the default, nothing to set up).
import type { Config } from '../config.js';
import { LowdbStore } from './lowdb/lowdb-store.js';
import type { InviteStore } from './store.js';

export async function openStore(config: Pick<Config, 'storeFile' | 'storeFsync'>): Promise<InviteStore> {
  return LowdbStore.open(config.storeFile, { fsync: config.storeFsync });
}

// Which store the configuration asks for: PostgreSQL when STORE_URL names one,
// else the lowdb files (the default, nothing to set up).
import type { Config } from '../config.js';
import { log } from '../log.js';
import { LowdbStore } from './lowdb/lowdb-store.js';
import { PostgresStore, describeUrl } from './postgres/postgres-store.js';
import type { InviteStore } from './store.js';

export async function openStore(config: Pick<Config, 'storeFile' | 'storeFsync' | 'storeUrl'>): Promise<InviteStore> {
  if (config.storeUrl) {
    const store = await PostgresStore.open(config.storeUrl);
    // Host, port and database only: the URL's password never reaches the log.
    log.info(`store: PostgreSQL ${describeUrl(config.storeUrl)}`);
    return store;
  }
  return LowdbStore.open(config.storeFile, { fsync: config.storeFsync });
}

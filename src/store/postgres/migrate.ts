// The PostgreSQL store's schema, by node-pg-migrate from the SQL files in
// migrations/ beside this file. PostgresStore.open runs it; `npm run migrate`
// runs the same files with node-pg-migrate's own command line. Both take
// node-pg-migrate's advisory lock and wait for it, so instances started at once
// migrate one after another (the later ones find nothing left to do).
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type pg from 'pg';
import { log } from '../../log.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
/** node-pg-migrate's record of what has run (the same name in package.json's migrate script). */
export const MIGRATIONS_TABLE = 'invite_store_migrations';

/** Apply every migration not applied yet, on `client` (a connected one; left open). Returns their names. */
export async function migrate(client: pg.ClientBase): Promise<string[]> {
  const ran = await runner({
    dbClient: client,
    dir: MIGRATIONS_DIR,
    migrationsTable: MIGRATIONS_TABLE,
    direction: 'up',
    singleTransaction: true,
    checkOrder: true,
    advisoryLockMode: 'wait',
    logger: { debug: () => {}, info: () => {}, warn: (m: string) => log.warn(`migrations: ${m}`), error: (m: string) => log.error(`migrations: ${m}`) },
  });
  return ran.map((m) => m.name);
}

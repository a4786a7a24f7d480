// Owns schema upgrades: runs migrations/ under a Postgres advisory lock so that
// several instances starting at once migrate exactly once.
import pg from 'pg';
import type { Knex } from 'knex';
import { migrations, type Migration } from '../../migrations/index.js';
import type { Config } from '../config.js';
import { ensureSchema, type Db } from './knex.js';

const ADVISORY_LOCK_KEY = 0x6f7470; // "otp"

const source: Knex.MigrationSource<Migration> = {
  getMigrations: async () => migrations,
  getMigrationName: (m) => m.name,
  getMigration: async (m) => m,
};

const migrateConfig = { migrationSource: source, tableName: 'knex_migrations' } as const;

export async function migrateLatest(db: Db, database: Config['database']): Promise<string[]> {
  await ensureSchema(db, database.schema);
  if (database.kind === 'embedded') {
    // One process owns the embedded database: no lock needed.
    const [, names] = await db.migrate.latest(migrateConfig);
    return names as string[];
  }
  const lock = new pg.Client({ connectionString: database.url });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [ADVISORY_LOCK_KEY]);
    const [, names] = await db.migrate.latest(migrateConfig);
    return names as string[];
  } finally {
    await lock.query('select pg_advisory_unlock($1)', [ADVISORY_LOCK_KEY]).catch(() => undefined);
    await lock.end();
  }
}

/** True when every known migration has run. */
export async function migrationsCurrent(db: Db): Promise<boolean> {
  const [, pending] = (await db.migrate.list(migrateConfig)) as [unknown[], unknown[]];
  return pending.length === 0;
}

// Owns the database connection: knex on node-postgres when DATABASE_URL is set,
// else knex on embedded PGlite (Postgres in WASM, data under DATA_DIR/pglite).
// The same migrations and queries run on both.
import fs from 'node:fs';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import pg from 'pg';
import type { Config } from '../config.js';

export type Db = Knex;

// Timestamps come back as Date, bigint counters as numbers (they stay far below 2^53).
pg.types.setTypeParser(20, (v) => Number(v));

// knex-pglite labels a delete "DEL", so knex's Postgres dialect does not
// recognise it and returns rows instead of the affected-row count.
const PgLiteClient = class extends (ClientPgLite as unknown as new (config: Knex.Config) => Knex.Client) {
  processResponse(obj: { method?: string; response?: { affectedRows?: number } }, runner: unknown) {
    if (obj.method === 'del') return obj.response?.affectedRows ?? 0;
    return (Object.getPrototypeOf(PgLiteClient.prototype) as { processResponse: Function }).processResponse.call(this, obj, runner);
  }
};

export function createDb(database: Config['database']): Db {
  const searchPath = database.schema ? [database.schema, 'public'] : undefined;
  if (database.kind === 'postgres') {
    return knexFactory({
      client: 'pg',
      connection: { connectionString: database.url, application_name: 'otp-idp' },
      searchPath,
      pool: { min: 0, max: database.poolMax, idleTimeoutMillis: 30000 },
      acquireConnectionTimeout: 10000,
    });
  }
  if (database.dataDir !== 'memory://') fs.mkdirSync(database.dataDir, { recursive: true });
  return knexFactory({
    client: PgLiteClient as unknown as typeof Knex.Client,
    dialect: 'postgres',
    connection: database.dataDir === 'memory://' ? {} : { filename: database.dataDir },
    searchPath,
  } as Knex.Config);
}

/** Creates the configured schema (tests and multi-schema deployments). */
export async function ensureSchema(db: Db, schema: string | undefined): Promise<void> {
  if (schema) await db.raw('create schema if not exists ??', [schema]);
}

export async function ping(db: Db): Promise<void> {
  await db.raw('select 1');
}

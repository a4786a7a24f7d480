// Test environments: each test file gets its own database (a fresh schema on
// the real Postgres named by TEST_DATABASE_URL, else a fresh embedded PGlite
// folder), so runs and files never see each other's rows.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../../src/config.js';

export const engine: 'postgres' | 'embedded' = process.env.TEST_DATABASE_URL ? 'postgres' : 'embedded';
export const projectRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
export const cliPath = path.join(projectRoot, 'dist', 'src', 'cli.js');
export const tenantsDir = path.join(projectRoot, 'tenants');

export interface TestEnv {
  /** Environment variables for a server or CLI process of this test. */
  vars: Record<string, string>;
  dataDir: string;
  schema: string | undefined;
  cleanup(): Promise<void>;
}

export function tempDir(prefix = 'otp-idp-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function createTestEnv(extra: Record<string, string> = {}, databaseUrl = process.env.TEST_DATABASE_URL): Promise<TestEnv> {
  const dataDir = tempDir();
  const schema = databaseUrl ? `t_${randomBytes(6).toString('hex')}` : undefined;
  const vars: Record<string, string> = {
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    TENANTS_DIR: tenantsDir,
    SECRETS_KEY: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'info',
    DEMO_PORTAL: 'true',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl, DATABASE_SCHEMA: schema! } : {}),
    ...extra,
  };
  return {
    vars,
    dataDir,
    schema,
    async cleanup() {
      if (schema) {
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        await client.query(`drop schema if exists "${schema}" cascade`);
        await client.end();
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The Config.database for an in-process test using the same env. */
export function databaseOf(env: TestEnv): Config['database'] {
  return engine === 'postgres'
    ? { kind: 'postgres', url: process.env.TEST_DATABASE_URL!, schema: env.schema, poolMax: 5 }
    : { kind: 'embedded', dataDir: path.join(env.dataDir, 'pglite'), schema: undefined };
}

// The composition root: opens the database and builds every module once, from
// one Config. Entry points (serve, CLI) and tests start from here.
import type { Registry } from 'prom-client';
import { createUserStore, type UserStore } from './accounts/users.js';
import { createClientRegistry, type ClientRegistry } from './admin/clients.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { createDb, type Db } from './db/knex.js';
import { migrateLatest } from './db/migrate.js';
import { createLogger, type Logger } from './log.js';
import { createKeyStore, type KeyStore } from './oidc/keys.js';
import { createProviderRegistry, type ProviderRegistry } from './oidc/registry.js';
import type { ProviderViews } from './oidc/provider.js';
import { createSecrets, resolveMasterKey, type Secrets } from './secrets.js';
import { loadTenants, type TenantRegistry } from './tenants/index.js';

export interface Services {
  config: Config;
  log: Logger;
  clock: Clock;
  db: Db;
  secrets: Secrets;
  tenants: TenantRegistry;
  users: UserStore;
  clients: ClientRegistry;
  keys: KeyStore;
  providers: ProviderRegistry;
  metrics?: Registry;
  /** Starts background workers (mail outbox); returns their stop handles. */
  startBackground?: () => Array<{ stop(): Promise<void> }>;
  close(): Promise<void>;
}

export interface ServiceOptions {
  log?: Logger;
  clock?: Clock;
  views: ProviderViews;
  /** Already loaded and validated tenants (serve checks them before it opens the database). */
  tenants?: TenantRegistry;
  /** Run migrations and create keys (serve does; read-only CLI commands need not). */
  prepare?: boolean;
}

export async function openServices(config: Config, options: ServiceOptions): Promise<Services> {
  const log = options.log ?? createLogger(config);
  const clock = options.clock ?? systemClock;
  const tenants = options.tenants ?? loadTenants(config.tenantsDir, { includeDemo: config.demoPortal });
  const secrets = createSecrets(resolveMasterKey(config));
  const db = createDb(config.database);
  try {
    if (options.prepare !== false) {
      const ran = await migrateLatest(db, config.database);
      if (ran.length) log.info({ migrations: ran }, 'migrations applied');
    }
    const users = createUserStore(db, clock);
    const clients = createClientRegistry(db, secrets, clock);
    const keys = createKeyStore(db, secrets, clock);
    if (options.prepare !== false) await keys.ensure();
    const providers = createProviderRegistry(config, keys, {
      db,
      clock,
      log,
      users,
      clients: clients.source,
      views: options.views,
    });
    await providers.refreshKeys();
    return {
      config, log, clock, db, secrets, tenants, users, clients, keys, providers,
      close: () => db.destroy(),
    };
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw err;
  }
}

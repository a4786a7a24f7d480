// The composition root: opens the database and builds every module once, from
// one Config. Entry points (serve, CLI) and tests start from here.
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
import { createAudit, type Audit } from './audit.js';
import { createCounters } from './auth/counters.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createOtpService, type OtpService } from './auth/otp.js';
import { createSignInStates, type SignInStates } from './auth/sign-in-state.js';
import { createOutbox, createTransport, type Outbox, type MailTransport } from './mail/index.js';
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
  otp: OtpService;
  signIns: SignInStates;
  outbox: Outbox;
  /** Keys for the cookies otp-idp sets itself (shared by all instances). */
  cookieKeys: string[];
  metrics: Metrics;
  audit: Audit;
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
  /** Overrides the transport chosen from SMTP_URL (tests). */
  transport?: MailTransport;
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
    const counters = createCounters(db);
    const otp = createOtpService({ db, clock, secrets, users, counters });
    const signIns = createSignInStates(db, clock);
    const transport = options.transport ?? createTransport(config, db, clock);
    const outbox = createOutbox({ db, clock, log, transport, options: { from: config.mailFrom } });
    const cookieKeys = options.prepare === false ? [] : await keys.cookieKeys();
    return {
      config, log, clock, db, secrets, tenants, users, clients, keys, providers, otp, signIns, outbox, cookieKeys,
      metrics: createMetrics(() => outbox.pending()),
      audit: createAudit(db, clock),
      startBackground: () => [outbox.start()],
      close: async () => {
        await transport.close?.();
        await db.destroy();
      },
    };
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw err;
  }
}

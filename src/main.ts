// `otp-idp serve`: opens the services, serves HTTP, runs the background jobs
// (purge, key refresh, mail outbox) and shuts down gracefully on SIGTERM/SIGINT.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCommand } from './commands.js';
import type { Config } from './config.js';
import { purgeExpired } from './db/adapter.js';
import { lockDataDir, serveCommands } from './embedded.js';
import { purgeSent } from './mail/index.js';
import { createApp } from './server.js';
import { openServices, type Services } from './services.js';
import { providerViews } from '../interactions/provider-views.js';
import { seedDemo } from '../interactions/demo-portal.js';
import { contrastProblems } from './tenants/check.js';
import { loadTenants } from './tenants/index.js';

export interface RunningServer {
  services: Services;
  url: string;
  stop(): Promise<void>;
}

function every(ms: number, job: () => Promise<unknown>, onError: (err: unknown) => void): NodeJS.Timeout {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    job().catch(onError).finally(() => (running = false));
  }, ms);
  timer.unref();
  return timer;
}

export async function serve(config: Config): Promise<RunningServer> {
  const tenants = loadTenants(config.tenantsDir, { includeDemo: config.demoPortal });
  const release = config.database.kind === 'embedded' ? lockDataDir(config.dataDir) : () => undefined;
  let services: Services;
  try {
    services = await openServices(config, { views: providerViews, tenants });
    if (config.demoPortal) await seedDemo(services);
  } catch (err) {
    release();
    throw err;
  }
  const { log } = services;
  for (const tenant of services.tenants.list()) {
    for (const problem of contrastProblems(tenant)) log.warn({ tenant: tenant.slug }, problem);
  }
  const app = createApp(services);
  const server = http.createServer(app.callback());
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = config.port === 0 ? `http://127.0.0.1:${port}` : config.publicUrl.origin;

  const timers = [
    every(5 * 60_000, () => purgeExpired(services.db, services.clock).then(() => purgeSent(services.db, services.clock)), (err) => log.warn({ err }, 'purge failed')),
    every(5_000, () => services.providers.refreshKeys(), (err) => log.warn({ err }, 'key refresh failed')),
  ];
  const background = services.startBackground?.() ?? [];
  const commandServer = config.database.kind === 'embedded' ? serveCommands(config.dataDir, (argv) => runCommand(services, argv)) : undefined;

  log.info(
    { port, publicUrl: config.publicUrl.origin, database: config.database.kind, tenants: services.tenants.list().map((t) => t.slug) },
    `otp-idp listening on port ${port}`,
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info('shutting down: finishing in-flight requests');
      timers.forEach(clearInterval);
      commandServer?.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref());
      await Promise.race([closed, timeout]);
      server.closeAllConnections();
      await Promise.allSettled(background.map((b) => b.stop()));
      await services.close();
      release();
      log.info('stopped');
    })());
  return { services, url, stop };
}

// Builds the Koa app: request ids and logs, security headers, health and
// metrics, static assets, the dev mailbox and demo portal (development only),
// and per tenant the interaction routes and the mounted oidc-provider.
import { randomUUID } from 'node:crypto';
import Koa, { type Context, type Next } from 'koa';
import helmet from 'koa-helmet';
import mount from 'koa-mount';
import { migrationsCurrent } from './db/migrate.js';
import { ping } from './db/knex.js';
import type { Services } from './services.js';
import { serveFile, tenantThemeCss, sharedAssetsDir } from '../interactions/assets.js';
import { createInteractionRouter, noteEndedSession } from '../interactions/router.js';
import { createDevRoutes } from '../interactions/dev.js';
import { createDemoPortal } from '../interactions/demo-portal.js';
import { pageContext, sendPage } from '../interactions/render.js';
import { notFoundPage, errorPage } from '../interactions/views/pages.js';

export interface AppState {
  requestId: string;
}

function routeGroup(path: string): string {
  if (path === '/healthz' || path === '/readyz' || path === '/metrics') return path.slice(1);
  if (path.startsWith('/assets/') || /^\/[^/]+\/assets\//.test(path)) return 'assets';
  if (/^\/[^/]+\/interaction\//.test(path)) return 'interaction';
  const m = /^\/[^/]+\/(token|auth|me|jwks|token\/introspection|token\/revocation|session\/end|\.well-known\/openid-configuration)/.exec(path);
  if (m) return `oidc:${m[1]}`;
  return 'other';
}

export function createApp(services: Services): Koa {
  const { config, log, tenants, providers, db } = services;
  const app = new Koa();
  app.proxy = config.trustProxy;
  app.keys = services.cookieKeys;
  const m = services.metrics;

  // Request id, access log, metrics and the last-resort error boundary.
  app.use(async (ctx: Context, next: Next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = /^[\w-]{8,64}$/.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    const group = routeGroup(ctx.path);
    try {
      await next();
    } catch (err) {
      // Client errors raised below (a body too large, a malformed form) keep their 4xx;
      // anything else is a bug: logged, and answered without internals.
      const status = (err as { status?: number }).status;
      const clientError = typeof status === 'number' && status >= 400 && status < 500;
      if (clientError) log.info({ requestId, path: ctx.path, status }, 'client error');
      else log.error({ err, requestId, path: ctx.path }, 'unhandled error');
      ctx.status = clientError ? status : 500;
      const code = clientError ? 'invalid_request' : 'server_error';
      if (ctx.accepts('html', 'json') === 'json') {
        ctx.body = { error: code, request_id: requestId };
      } else {
        const page = pageContext(ctx, ctx.state.tenant);
        ctx.type = 'html';
        ctx.set('Cache-Control', 'no-store');
        ctx.body = errorPage(page, { error: `${code} · request ${requestId}` });
      }
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      m.requests.inc({ group, status: `${Math.floor(ctx.status / 100)}xx` });
      m.duration.observe({ group }, seconds);
      if (group !== 'healthz' && group !== 'metrics' && group !== 'assets') {
        log.info({ requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(seconds * 1000) }, 'request');
      }
    }
  });

  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          // No form-action: after "Continue" the browser follows redirects to the
          // client's own redirect URI (https, loopback or an app's custom scheme),
          // and Chromium applies form-action to those redirects too.
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
          objectSrc: ["'none'"],
        },
      },
      strictTransportSecurity: config.publicUrl.protocol === 'https:' ? { maxAge: 31536000, includeSubDomains: true } : false,
      referrerPolicy: { policy: 'no-referrer' },
    }),
  );

  app.use(async (ctx, next) => {
    switch (ctx.path) {
      case '/healthz':
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { status: 'ok' };
        return;
      case '/readyz': {
        ctx.set('Cache-Control', 'no-store');
        try {
          await ping(db);
          if (!(await migrationsCurrent(db))) {
            ctx.status = 503;
            ctx.body = { status: 'unavailable', reason: 'migrations pending' };
            return;
          }
          ctx.body = { status: 'ready' };
        } catch {
          ctx.status = 503;
          ctx.body = { status: 'unavailable', reason: 'database unreachable' };
        }
        return;
      }
      case '/metrics':
        ctx.type = m.registry.contentType;
        ctx.body = await m.registry.metrics();
        return;
      default:
        return next();
    }
  });

  // Shared assets: /assets/<file>
  app.use(async (ctx, next) => {
    if (!ctx.path.startsWith('/assets/') || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    if (!(await serveFile(ctx, sharedAssetsDir, ctx.path.slice('/assets/'.length), 3600))) return next();
  });

  if (!config.production) {
    app.use(createDevRoutes(services).routes());
  }
  if (config.demoPortal && tenants.get('demo')) {
    app.use(createDemoPortal(services).routes());
  }

  const interactions = createInteractionRouter(services);
  const mounted = new WeakMap<object, Koa.Middleware>();

  // Per tenant: /<slug>/assets, /<slug>/interaction/..., then the provider.
  app.use(async (ctx, next) => {
    const match = /^\/([a-z0-9][a-z0-9-]{0,39})(\/.*)?$/.exec(ctx.path);
    const tenant = match ? tenants.get(match[1]!) : undefined;
    if (!tenant) return next();
    const rest = match![2] ?? '/';
    ctx.state.tenant = tenant;
    if (rest.startsWith('/assets/') && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      const file = rest.slice('/assets/'.length);
      if (file === 'theme.css') {
        ctx.type = 'text/css';
        ctx.set('Cache-Control', 'public, max-age=300');
        ctx.body = tenantThemeCss(tenant);
        return;
      }
      if (await serveFile(ctx, tenant.dir, file, 3600, true)) return;
      return next();
    }
    if (rest.startsWith('/interaction/')) {
      return interactions(ctx as never, next);
    }
    const provider = await providers.get(tenant);
    let middleware = mounted.get(provider);
    if (!middleware) {
      middleware = mount(`/${tenant.slug}`, provider as unknown as Koa);
      mounted.set(provider, middleware);
    }
    // The session cookie the browser came with; oidc-provider replaces it when that session is gone.
    const presentedSession = rest === '/auth' && ctx.method === 'GET' ? ctx.cookies.get('_session', { signed: true }) : undefined;
    await middleware(ctx, next);
    // Only a request sent to sign in pays for the lookup; a live session passes straight through.
    if (presentedSession && ctx.status === 303 && /\/interaction\//.test(ctx.response.get('location'))) {
      await noteEndedSession(ctx, services, tenant, presentedSession);
    }
  });

  app.use(async (ctx) => {
    ctx.status = 404;
    if (ctx.accepts('html', 'json') === 'json') {
      ctx.body = { error: 'not_found' };
      return;
    }
    sendPage(ctx, 404, notFoundPage(pageContext(ctx, ctx.state.tenant)));
  });

  return app;
}

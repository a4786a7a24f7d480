// Development only: a tiny portal for the demo tenant at `/`. It is a real
// relying party (openid-client, authorization code + PKCE, public client
// `demo-portal`), so a newcomer sees the whole product in a minute.
import Router from '@koa/router';
import type { Context } from 'koa';
import * as oidc from 'openid-client';
import { issuerFor } from '../src/config.js';
import type { Services } from '../src/services.js';
import { html } from './html.js';
import { pageContext, sendPage } from './render.js';
import { layout } from './views/layout.js';

export const DEMO_CLIENT_ID = 'demo-portal';
const TX_COOKIE = 'demo_portal_tx';
const SESSION_COOKIE = 'demo_portal_session';

const redirectUri = (services: Services) => new URL('/demo-portal/callback', services.config.publicUrl).href;

/** Makes sure the demo user and the demo portal's client exist. */
export async function seedDemo(services: Services): Promise<void> {
  if (!services.tenants.get('demo')) return;
  await services.users.add({ tenant: 'demo', email: 'demo@example.com', name: 'Demo User' });
  await services.clients.create({
    tenant: 'demo',
    clientId: DEMO_CLIENT_ID,
    name: 'Demo Portal',
    public: true,
    redirectUris: [redirectUri(services)],
    postLogoutRedirectUris: [new URL('/', services.config.publicUrl).href],
  });
}

export function createDemoPortal(services: Services) {
  const router = new Router();
  const tenant = services.tenants.get('demo');
  let configuration: Promise<oidc.Configuration> | undefined;
  const client = () =>
    (configuration ??= oidc
      .discovery(new URL(issuerFor(services.config, 'demo')), DEMO_CLIENT_ID, undefined, oidc.None(), {
        execute: services.config.publicUrl.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
      })
      .catch((err: unknown) => {
        configuration = undefined;
        throw err;
      }));
  const cookie = (ctx: Context) => ({ path: '/', httpOnly: true, sameSite: 'lax' as const, signed: true, secure: ctx.secure });

  router.get('/', (ctx) => {
    // The demo portal's own copy is English only: no language switcher here.
    const page = { ...pageContext(ctx, tenant), url: undefined };
    const raw = ctx.cookies.get(SESSION_COOKIE, { signed: true });
    let session: { claims: Record<string, unknown> } | undefined;
    try {
      session = raw ? (JSON.parse(Buffer.from(raw, 'base64url').toString()) as { claims: Record<string, unknown> }) : undefined;
    } catch {
      session = undefined;
    }
    const body = session
      ? html`<h1>Demo Portal</h1>
<p>Signed in as <strong>${String(session.claims.email ?? session.claims.sub)}</strong>. The ID token says:</p>
<pre class="claims" data-testid="claims">${JSON.stringify(session.claims, null, 2)}</pre>
<p><a class="button secondary" href="/demo-portal/logout">Sign out</a></p>`
      : html`<h1>Demo Portal</h1>
<p>This is a stand-in for one of your portals. It signs you in through otp-idp with the authorization code flow and PKCE.</p>
<p>Use <strong>demo@example.com</strong>; the code arrives in the <a href="/dev/mailbox">dev mailbox</a>.</p>
<p><a class="button" href="/demo-portal/login">Sign in</a></p>`;
    sendPage(ctx, 200, layout(page, 'Demo Portal', body));
  });

  router.get('/demo-portal/login', async (ctx) => {
    const config = await client();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    ctx.cookies.set(TX_COOKIE, Buffer.from(JSON.stringify({ verifier, state, nonce })).toString('base64url'), { ...cookie(ctx), maxAge: 3600_000 });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri(services),
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(typeof ctx.query.ui_locales === 'string' ? { ui_locales: ctx.query.ui_locales } : {}),
    });
    ctx.redirect(url.href);
  });

  router.get('/demo-portal/callback', async (ctx) => {
    const page = pageContext(ctx, tenant);
    const raw = ctx.cookies.get(TX_COOKIE, { signed: true });
    if (!raw) return sendPage(ctx, 400, layout(page, 'Demo Portal', html`<h1>Demo Portal</h1><p>This sign-in was not started here. <a href="/">Start again</a>.</p>`));
    const tx = JSON.parse(Buffer.from(raw, 'base64url').toString()) as { verifier: string; state: string; nonce: string };
    ctx.cookies.set(TX_COOKIE, '', { ...cookie(ctx), maxAge: 0 });
    try {
      const current = new URL(ctx.originalUrl, services.config.publicUrl);
      const tokens = await oidc.authorizationCodeGrant(await client(), current, {
        pkceCodeVerifier: tx.verifier,
        expectedState: tx.state,
        expectedNonce: tx.nonce,
      });
      const claims = tokens.claims() ?? {};
      const session = { claims, idToken: tokens.id_token };
      ctx.cookies.set(SESSION_COOKIE, Buffer.from(JSON.stringify(session)).toString('base64url'), { ...cookie(ctx), maxAge: 8 * 3600_000 });
      ctx.redirect('/');
    } catch (err) {
      const message = (err as { error?: string; message?: string }).error ?? (err as Error).message;
      sendPage(ctx, 400, layout(page, 'Demo Portal', html`<h1>Demo Portal</h1><p>Sign-in failed: <code>${message}</code>. <a href="/">Start again</a>.</p>`));
    }
  });

  router.get('/demo-portal/logout', async (ctx) => {
    const raw = ctx.cookies.get(SESSION_COOKIE, { signed: true });
    ctx.cookies.set(SESSION_COOKIE, '', { ...cookie(ctx), maxAge: 0 });
    let idToken: string | undefined;
    try {
      idToken = raw ? (JSON.parse(Buffer.from(raw, 'base64url').toString()) as { idToken?: string }).idToken : undefined;
    } catch {
      idToken = undefined;
    }
    const url = oidc.buildEndSessionUrl(await client(), {
      post_logout_redirect_uri: new URL('/', services.config.publicUrl).href,
      ...(idToken ? { id_token_hint: idToken } : {}),
    });
    ctx.redirect(url.href);
  });

  return router;
}

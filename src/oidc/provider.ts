// Owns the oidc-provider configuration of one tenant: issuer, adapter, keys,
// cookies, features, claims, TTLs and the consent policy for first-party clients.
import Provider, { type Configuration, type KoaContextWithOIDC, errors, interactionPolicy } from 'oidc-provider';
import type { UserStore } from '../accounts/users.js';
import type { Clock } from '../clock.js';
import { createAdapterClass, type ClientSource } from '../db/adapter.js';
import type { Db } from '../db/knex.js';
import type { Logger } from '../log.js';
import type { Tenant } from '../tenants/index.js';

export const ACR_EMAIL_OTP = 'urn:otp-idp:acr:email-otp';
export const ACR_MFA = 'urn:otp-idp:acr:mfa';

/** Pages the provider itself renders; supplied by the interaction layer. */
export interface ProviderViews {
  error(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }, tenant: Tenant): string;
  logout(ctx: KoaContextWithOIDC, form: string, tenant: Tenant): string;
  loggedOut(ctx: KoaContextWithOIDC, tenant: Tenant): string;
}

export interface ProviderDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  users: UserStore;
  clients: ClientSource;
  jwks: object[];
  cookieKeys: string[];
  views: ProviderViews;
}

/**
 * oidc-provider asks every native app for consent (RFC 8252 §8.6: another app can
 * claim its redirect scheme). A first-party app skips consent when the user has
 * just signed in in this very flow; when it would ride on an existing session,
 * the user still confirms once.
 */
function interactionPolicyFor() {
  const policy = interactionPolicy.base();
  const consent = policy.get('consent')!;
  consent.checks.remove('native_client_prompt');
  consent.checks.add(
    new interactionPolicy.Check('native_client_prompt', 'native clients require End-User interaction', 'interaction_required', (ctx) => {
      const { oidc } = ctx;
      if (oidc.client!.applicationType !== 'native' || oidc.params!.response_type === 'none' || oidc.result?.consent) {
        return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      }
      if (oidc.client!.first_party && oidc.result?.login) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      return interactionPolicy.Check.REQUEST_PROMPT;
    }),
    0,
  );
  return policy;
}

export function createTenantProvider(tenant: Tenant, issuer: string, deps: ProviderDeps): Provider {
  const { users, views } = deps;
  const mountPath = `/${tenant.slug}`;
  const refreshTtl = 14 * 86400;

  const configuration: Configuration = {
    adapter: createAdapterClass(deps.db, tenant.slug, deps.clients, deps.clock),
    jwks: { keys: deps.jwks as never },
    cookies: {
      keys: deps.cookieKeys,
      names: { session: '_session', interaction: '_interaction', resume: '_interaction_resume' },
      long: { path: mountPath, httpOnly: true, sameSite: 'lax' },
      short: { path: mountPath, httpOnly: true, sameSite: 'lax' },
    },
    interactions: { url: (_ctx, interaction) => `${mountPath}/interaction/${interaction.uid}`, policy: interactionPolicyFor() },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.body = views.logout(ctx, form, tenant);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = views.loggedOut(ctx, tenant);
        },
      },
    },
    scopes: ['openid', 'offline_access', 'email', 'profile'],
    // acr, amr and auth_time ride on the openid scope so every ID token says how the user signed in.
    claims: { openid: ['sub', 'acr', 'amr', 'auth_time'], email: ['email', 'email_verified'], profile: ['name'] },
    acrValues: [ACR_EMAIL_OTP, ACR_MFA],
    responseTypes: ['code'],
    // Portals read email and name from the ID token itself (no userinfo round trip).
    conformIdTokenClaims: false,
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    extraClientMetadata: { properties: ['first_party'] },
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      ClientCredentials: 3600,
      IdToken: 3600,
      Interaction: 3600,
      // Every request that uses the session saves it again, so its TTL is an idle
      // timeout, never past the absolute lifetime counted from the sign-in.
      Session: (_ctx, session) => {
        const { idleTimeoutSeconds, absoluteTimeoutSeconds } = tenant.session;
        const loginTs = (session as { loginTs?: number }).loginTs;
        if (!loginTs) return idleTimeoutSeconds;
        const left = loginTs + absoluteTimeoutSeconds - Math.floor(deps.clock.now().getTime() / 1000);
        return Math.max(1, Math.min(idleTimeoutSeconds, left));
      },
      RefreshToken: refreshTtl,
      Grant: Math.max(refreshTtl, tenant.session.absoluteTimeoutSeconds),
    },
    findAccount: async (_ctx, sub) => {
      const user = await users.findById(tenant.slug, sub);
      if (!user || user.status !== 'active') return undefined;
      return {
        accountId: user.id,
        claims: async () => ({
          sub: user.id,
          email: user.email,
          email_verified: true,
          ...(user.name ? { name: user.name } : {}),
        }),
      };
    },
    loadExistingGrant: async (ctx) => {
      const { oidc } = ctx;
      const client = oidc.client!;
      const grantId = oidc.result?.consent?.grantId || oidc.session!.grantIdFor(client.clientId);
      const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
      if (!client.first_party) return existing;
      // First-party portals and apps are the tenant's own: no consent screen.
      const grant = existing ?? new oidc.provider.Grant({ clientId: client.clientId, accountId: oidc.session!.accountId! });
      grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
      const claims = oidc.requestParamClaims;
      if (claims?.size) grant.addOIDCClaims([...claims]);
      await grant.save();
      return grant;
    },
    clientBasedCORS: (_ctx, origin, client) =>
      origin !== 'null' && (client.redirectUris ?? []).some((uri) => URL.parse(uri)?.origin === origin),
    renderError: async (ctx, out, error) => {
      if (!(error instanceof errors.OIDCProviderError) || error.statusCode >= 500) {
        deps.log.error({ err: error, tenant: tenant.slug }, 'oidc error page');
      }
      ctx.type = 'html';
      ctx.body = views.error(ctx, out, tenant);
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.on('server_error', (_ctx, err) => deps.log.error({ err, tenant: tenant.slug }, 'oidc server error'));
  return provider;
}

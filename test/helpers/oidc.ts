// The portal's side, with openid-client: discover a tenant issuer and start an
// authorization code + PKCE request.
import * as oidc from 'openid-client';

export interface ClientCredentials {
  client_id: string;
  client_secret?: string | undefined;
}

/** openid-client's configuration for a tenant issuer (http allowed: tests run on loopback). */
export function relyingParty(issuer: string, client: ClientCredentials, auth: 'basic' | 'post' = 'basic'): Promise<oidc.Configuration> {
  const secret = client.client_secret;
  const method = !secret ? oidc.None() : auth === 'post' ? oidc.ClientSecretPost(secret) : oidc.ClientSecretBasic(secret);
  return oidc.discovery(new URL(issuer), client.client_id, secret, method, { execute: [oidc.allowInsecureRequests] });
}

/** An authorization URL with PKCE S256 and a state; keep the verifier for the code exchange. */
export async function pkceAuthorization(
  config: oidc.Configuration,
  redirectUri: string,
  extra: Record<string, string> = {},
): Promise<{ url: string; verifier: string; state: string }> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid email profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...extra,
  });
  return { url: url.href, verifier, state };
}

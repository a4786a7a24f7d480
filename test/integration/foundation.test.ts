// The foundation, end to end with real processes: discovery, a client made
// with the CLI, client credentials + introspection + revocation through
// openid-client, restart durability, several instances, and start-up errors.
import fs from 'node:fs';
import path from 'node:path';
import * as oidc from 'openid-client';
import { createTestEnv, engine, tempDir, tenantsDir, type TestEnv } from '../helpers/env.js';
import { oauthError } from '../helpers/oauth.js';
import { cliJson, runCli, startServer, type ServerProcess } from '../helpers/process.js';

let env: TestEnv;
let server: ServerProcess;

beforeAll(async () => {
  env = await createTestEnv();
  server = await startServer(env.vars);
});

afterAll(async () => {
  await server?.stop();
  await env?.cleanup();
});

async function discover(base: string, clientId: string, secret: string) {
  return oidc.discovery(new URL(`${base}/demo`), clientId, secret, oidc.ClientSecretBasic(secret), {
    execute: [oidc.allowInsecureRequests],
  });
}

async function createServiceClient(vars: Record<string, string>) {
  return cliJson<{ client_id: string; client_secret: string }>(
    ['clients', 'create', '--tenant', 'demo', '--name', 'Reporting service', '--redirect-uri', 'https://reports.example.com/cb'],
    vars,
  );
}

test('discovery advertises the tenant issuer, RS256, S256-only PKCE and RFC 9207 iss', async () => {
  const res = await fetch(`${server.url}/demo/.well-known/openid-configuration`);
  expect(res.status).toBe(200);
  const doc = (await res.json()) as Record<string, unknown>;
  // The issuer comes from PUBLIC_URL, not from the Host header of the request.
  expect(doc.issuer).toBe(`${server.url}/demo`);
  expect(doc.id_token_signing_alg_values_supported).toContain('RS256');
  expect(doc.code_challenge_methods_supported).toEqual(['S256']);
  expect(doc.authorization_response_iss_parameter_supported).toBe(true);
  expect(doc.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'none']);
  const other = (await (await fetch(`${server.url}/acme/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  expect(other.issuer).toBe(`${server.url}/acme`);
});

test('health and readiness', async () => {
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  const ready = await fetch(`${server.url}/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({ status: 'ready' });
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  expect(metrics).toContain('otp_idp_http_requests_total');
});

test('JWKS publishes an RS256 and an ES256 key, each with a kid, and no private parts', async () => {
  const jwks = (await (await fetch(`${server.url}/demo/jwks`)).json()) as { keys: Array<Record<string, string>> };
  expect(jwks.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
  for (const key of jwks.keys) {
    expect(key.kid).toBeTruthy();
    expect(key.d).toBeUndefined();
  }
});

test('a client made with the CLI gets a client-credentials token that introspects and revokes', async () => {
  const created = await createServiceClient(env.vars);
  expect(created.client_id).toMatch(/^demo-/);
  expect(created.client_secret.length).toBeGreaterThanOrEqual(40);

  const config = await discover(server.url, created.client_id, created.client_secret);
  // openid-client checks the issuer against the discovery URL it was given.
  expect(config.serverMetadata().issuer).toBe(`${server.url}/demo`);
  const tokens = await oidc.clientCredentialsGrant(config, {});
  expect(tokens.access_token).toBeTruthy();
  expect(tokens.token_type.toLowerCase()).toBe('bearer');

  const active = await oidc.tokenIntrospection(config, tokens.access_token);
  expect(active.active).toBe(true);
  expect(active.client_id).toBe(created.client_id);

  await oidc.tokenRevocation(config, tokens.access_token);
  const revoked = await oidc.tokenIntrospection(config, tokens.access_token);
  expect(revoked.active).toBe(false);
});

test('client_secret_post clients authenticate with the secret in the body', async () => {
  const created = await cliJson<{ client_id: string; client_secret: string }>(
    ['clients', 'create', '--tenant', 'demo', '--name', 'Post client', '--redirect-uri', 'https://p.example.com/cb', '--token-endpoint-auth-method', 'client_secret_post'],
    env.vars,
  );
  const config = await oidc.discovery(new URL(`${server.url}/demo`), created.client_id, created.client_secret, oidc.ClientSecretPost(created.client_secret), {
    execute: [oidc.allowInsecureRequests],
  });
  const tokens = await oidc.clientCredentialsGrant(config, {});
  expect(tokens.access_token).toBeTruthy();
});

test('a wrong client secret is refused, and a rotated secret replaces the old one', async () => {
  const created = await createServiceClient(env.vars);
  const wrong = await discover(server.url, created.client_id, 'not-the-secret');
  expect(await oauthError(oidc.clientCredentialsGrant(wrong, {}))).toBe('invalid_client');

  const rotated = await cliJson<{ client_secret: string }>(['clients', 'rotate-secret', created.client_id], env.vars);
  const old = await discover(server.url, created.client_id, created.client_secret);
  expect(await oauthError(oidc.clientCredentialsGrant(old, {}))).toBe('invalid_client');
  const fresh = await discover(server.url, created.client_id, rotated.client_secret);
  expect((await oidc.clientCredentialsGrant(fresh, {})).access_token).toBeTruthy();
});

test('clients are per tenant: a demo client does not exist at acme', async () => {
  const created = await createServiceClient(env.vars);
  const config = await oidc.discovery(new URL(`${server.url}/acme`), created.client_id, created.client_secret, oidc.ClientSecretBasic(created.client_secret), {
    execute: [oidc.allowInsecureRequests],
  });
  expect(await oauthError(oidc.clientCredentialsGrant(config, {}))).toBe('invalid_client');
});

test('the CLI answers bad arguments with one line and exit code 2', async () => {
  const noTenant = await runCli(['clients', 'create', '--name', 'x', '--redirect-uri', 'https://x.example.com/cb'], env.vars);
  expect(noTenant.code).toBe(2);
  expect(noTenant.stderr.trim()).toBe('otp-idp: --tenant is required');
  const badUri = await runCli(['clients', 'create', '--tenant', 'demo', '--name', 'x', '--redirect-uri', 'http://evil.example.com/cb'], env.vars);
  expect(badUri.code).toBe(2);
  expect(badUri.stderr).toMatch(/must use https/);
  const noDot = await runCli(['clients', 'create', '--tenant', 'demo', '--name', 'x', '--public', '--redirect-uri', 'myapp:/cb'], env.vars);
  expect(noDot.code).toBe(2);
  expect(noDot.stderr).toMatch(/reverse domain name/);
  const unknownFlag = await runCli(['clients', 'list', '--colour'], env.vars);
  expect(unknownFlag.code).toBe(2);
});

test('clients list, show and delete; a deleted client is refused', async () => {
  const created = await createServiceClient(env.vars);
  const list = await cliJson<Array<{ client_id: string }>>(['clients', 'list', '--tenant', 'demo'], env.vars);
  expect(list.map((c) => c.client_id)).toContain(created.client_id);
  const shown = await cliJson<{ client_secret?: string; redirect_uris: string[] }>(['clients', 'show', created.client_id], env.vars);
  expect(shown.client_secret).toBeUndefined();
  expect(shown.redirect_uris).toEqual(['https://reports.example.com/cb']);
  const config = await discover(server.url, created.client_id, created.client_secret);
  const tokens = await oidc.clientCredentialsGrant(config, {});
  await cliJson(['clients', 'delete', created.client_id], env.vars);
  expect(await oauthError(oidc.clientCredentialsGrant(config, {}))).toBe('invalid_client');
  const missing = await runCli(['clients', 'show', created.client_id], env.vars);
  expect(missing.code).toBe(1);
  expect(tokens.access_token).toBeTruthy();
});

test('a restart keeps clients, keys and issued tokens', async () => {
  const created = await createServiceClient(env.vars);
  const before = await discover(server.url, created.client_id, created.client_secret);
  const tokens = await oidc.clientCredentialsGrant(before, {});
  const jwksBefore = await (await fetch(`${server.url}/demo/jwks`)).json();

  expect(await server.stop()).toBe(0);
  server = await startServer({ ...env.vars, PORT: String(server.port) });

  const after = await discover(server.url, created.client_id, created.client_secret);
  expect(await (await fetch(`${server.url}/demo/jwks`)).json()).toEqual(jwksBefore);
  expect((await oidc.tokenIntrospection(after, tokens.access_token)).active).toBe(true);
});

test('keys rotate: the new key signs, the old one stays in JWKS until retired', async () => {
  const jwksOf = async () => ((await (await fetch(`${server.url}/demo/jwks`)).json()) as { keys: Array<{ kid: string; alg: string }> }).keys;
  const before = await jwksOf();
  const oldRs = before.find((k) => k.alg === 'RS256')!.kid;
  const rotated = await cliJson<{ signing: string[] }>(['keys', 'rotate'], env.vars);
  const newRs = rotated.signing.find((k) => k.startsWith('rs256'))!;
  // Instances notice a rotation within seconds (at once when the command ran inside the server).
  let after = await jwksOf();
  for (let i = 0; i < 40 && !after.some((k) => k.kid === newRs); i++) {
    await new Promise((r) => setTimeout(r, 250));
    after = await jwksOf();
  }
  expect(after.map((k) => k.kid)).toEqual(expect.arrayContaining([newRs, oldRs]));
  const list = await cliJson<Array<{ kid: string; signing: boolean }>>(['keys', 'list'], env.vars);
  expect(list.find((k) => k.kid === newRs)?.signing).toBe(true);
  expect(list.find((k) => k.kid === oldRs)?.signing).toBe(false);

  const refuse = await runCli(['keys', 'retire', newRs], env.vars);
  expect(refuse.code).toBe(2);
  await cliJson(['keys', 'retire', oldRs], env.vars);
  for (let i = 0; i < 40 && after.some((k) => k.kid === oldRs); i++) {
    await new Promise((r) => setTimeout(r, 250));
    after = await jwksOf();
  }
  expect(after.map((k) => k.kid)).not.toContain(oldRs);
});

if (engine === 'postgres') {
  test('two instances on one Postgres publish the same JWKS and accept each other\'s tokens', async () => {
    const second = await startServer(env.vars);
    try {
      const created = await createServiceClient(env.vars);
      const a = await discover(server.url, created.client_id, created.client_secret);
      const b = await discover(second.url, created.client_id, created.client_secret);
      expect(await (await fetch(`${second.url}/demo/jwks`)).json()).toEqual(await (await fetch(`${server.url}/demo/jwks`)).json());
      const fromA = await oidc.clientCredentialsGrant(a, {});
      const fromB = await oidc.clientCredentialsGrant(b, {});
      expect((await oidc.tokenIntrospection(b, fromA.access_token)).active).toBe(true);
      expect((await oidc.tokenIntrospection(a, fromB.access_token)).active).toBe(true);
      await oidc.tokenRevocation(b, fromA.access_token);
      expect((await oidc.tokenIntrospection(a, fromA.access_token)).active).toBe(false);
    } finally {
      await second.stop();
    }
  });
} else {
  test('a second process cannot open the embedded database while the server runs', async () => {
    await expect(startServer(env.vars, 15000)).rejects.toThrow(/in use by process \d+/);
  });
}

describe('start-up errors name what is wrong in one line', () => {
  test('a bad env value', async () => {
    const r = await runCli(['serve'], { ...env.vars, PORT: 'abc' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual(['otp-idp: PORT: must be a number']);
    const level = await runCli(['serve'], { ...env.vars, LOG_LEVEL: 'loud' });
    expect(level.stderr.trim()).toMatch(/^otp-idp: LOG_LEVEL: must be one of fatal, error/);
  });

  test('production refuses development defaults', async () => {
    const r = await runCli(['serve'], { ...env.vars, NODE_ENV: 'production', PUBLIC_URL: 'http://id.example.com', DEMO_PORTAL: '' });
    expect(r.stderr.trim()).toBe('otp-idp: PUBLIC_URL: must be https:// when NODE_ENV=production');
    const noSmtp = await runCli(['serve'], { ...env.vars, NODE_ENV: 'production', PUBLIC_URL: 'https://id.example.com', DEMO_PORTAL: '' });
    expect(noSmtp.stderr.trim()).toMatch(/^otp-idp: SMTP_URL: required/);
  });

  test('a bad tenant.json', async () => {
    const dir = tempDir('otp-idp-tenants-');
    fs.cpSync(path.join(tenantsDir, 'acme'), path.join(dir, 'acme'), { recursive: true });
    const file = path.join(dir, 'acme', 'tenant.json');
    const good = JSON.parse(fs.readFileSync(file, 'utf8'));
    const cases: Array<[object, RegExp]> = [
      [{ ...good, branding: { ...good.branding, primaryColor: 'green' } }, /acme\/tenant\.json: branding\.primaryColor: must be a colour like #1a2b3c$/],
      [{ ...good, branding: { ...good.branding, logo: 'missing.png' } }, /acme\/tenant\.json: branding\.logo: file "missing\.png" does not exist$/],
      [{ ...good, colour: 'red' }, /acme\/tenant\.json: colour: unknown key$/],
    ];
    for (const [content, message] of cases) {
      fs.writeFileSync(file, JSON.stringify(content));
      const r = await runCli(['serve'], { ...env.vars, TENANTS_DIR: dir });
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      const check = await runCli(['tenants', 'check'], { ...env.vars, TENANTS_DIR: dir });
      expect(check.code).toBe(1);
      expect(check.stdout).toMatch(message.source.replace('$', '').length ? new RegExp(message.source.replace(/\$$/, '')) : message);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

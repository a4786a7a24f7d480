// Behind a TLS-terminating proxy: TRUST_PROXY makes endpoints https and cookies
// Secure; cookies are HttpOnly, SameSite=Lax and scoped to the tenant's path.
import { createTestEnv, type TestEnv } from '../helpers/env.js';
import { cliJson, startServer, type ServerProcess } from '../helpers/process.js';

let env: TestEnv;
let server: ServerProcess;
const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'id.example.com', 'x-forwarded-for': '203.0.113.9' };

beforeAll(async () => {
  env = await createTestEnv({ TRUST_PROXY: 'true', PUBLIC_URL: 'https://id.example.com' });
  server = await startServer(env.vars);
});

afterAll(async () => {
  await server?.stop();
  await env?.cleanup();
});

test('discovery advertises https endpoints from the forwarded headers', async () => {
  const doc = (await (await fetch(`${server.url}/demo/.well-known/openid-configuration`, { headers: forwarded })).json()) as Record<string, string>;
  expect(doc.issuer).toBe('https://id.example.com/demo');
  expect(doc.token_endpoint).toBe('https://id.example.com/demo/token');
  expect(doc.authorization_endpoint).toBe('https://id.example.com/demo/auth');
});

test('interaction cookies are Secure, HttpOnly, SameSite=Lax and scoped to the tenant; HSTS is on', async () => {
  const client = await cliJson<{ client_id: string }>(
    ['clients', 'create', '--tenant', 'demo', '--name', 'App', '--public', '--redirect-uri', 'com.example.app:/cb'],
    env.vars,
  );
  const url = new URL(`${server.url}/demo/auth`);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: 'com.example.app:/cb',
    response_type: 'code',
    scope: 'openid',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  }).toString();
  const res = await fetch(url, { headers: forwarded, redirect: 'manual' });
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toMatch(/^\/demo\/interaction\/[\w-]+$/);
  const cookies = res.headers.getSetCookie();
  expect(cookies.length).toBeGreaterThan(0);
  for (const cookie of cookies) {
    expect(cookie).toMatch(/; secure/i);
    expect(cookie).toMatch(/; httponly/i);
    expect(cookie).toMatch(/; samesite=lax/i);
    expect(cookie).toMatch(/; path=\/demo(\/|;|$)/);
  }
  const page = await fetch(`${server.url}/healthz`, { headers: forwarded });
  expect(page.headers.get('strict-transport-security')).toMatch(/max-age=31536000/);
  expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
});

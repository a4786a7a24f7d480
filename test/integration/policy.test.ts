// Tenant policy at work: unknownEmail "notify" tells an address without an
// account so (and nothing else), and a user type that requires a second factor
// never gets in with the email code alone.
import fs from 'node:fs';
import path from 'node:path';
import type * as oidc from 'openid-client';
import { Agent, textOf } from '../helpers/browserless.js';
import { createTestEnv, tempDir, tenantsDir, type TestEnv } from '../helpers/env.js';
import { cliJson, startServer, type ServerProcess } from '../helpers/process.js';
import { codeFromSubject, startSmtp, type SmtpCapture } from '../helpers/smtp.js';
import { pkceAuthorization, relyingParty } from '../helpers/oidc.js';

let env: TestEnv;
let server: ServerProcess;
let smtp: SmtpCapture;
let config: oidc.Configuration;
const CB = 'https://portal.example.com/cb';

beforeAll(async () => {
  const dir = tempDir('otp-idp-tenants-');
  fs.cpSync(path.join(tenantsDir, 'demo'), path.join(dir, 'demo'), { recursive: true });
  const file = path.join(dir, 'demo', 'tenant.json');
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  json.otp = { unknownEmail: 'notify' };
  fs.writeFileSync(file, JSON.stringify(json));
  smtp = await startSmtp();
  env = await createTestEnv({ SMTP_URL: smtp.url, TENANTS_DIR: dir });
  server = await startServer(env.vars);
  const c = await cliJson<{ client_id: string; client_secret: string }>(['clients', 'create', '--tenant', 'demo', '--name', 'P', '--redirect-uri', CB], env.vars);
  await cliJson(['users', 'add', '--tenant', 'demo', '--email', 'boss@example.com', '--type', 'admin'], env.vars);
  config = await relyingParty(`${server.url}/demo`, c);
});

afterAll(async () => {
  await server?.stop();
  await smtp?.close();
  await env?.cleanup();
});

async function toCodePage(email: string) {
  const { url } = await pkceAuthorization(config, CB);
  const agent = new Agent();
  const page = await agent.go(url);
  const send = await agent.submit(page, 'Sign in', { email });
  return { agent, code: await agent.submit(send, 'Send verification code') };
}

test('unknownEmail notify: the address gets a "no account" notice without a code, on the same pages', async () => {
  const { code } = await toCodePage('stranger@example.com');
  expect(textOf(code.html)).toContain('Verification code');
  const mail = await smtp.waitFor((m) => m.to.includes('stranger@example.com'));
  expect(mail.subject).toBe('Sign-in attempt at Demo Portal');
  expect(mail.text).toContain('there is no account for it');
  expect(mail.subject + mail.text).not.toMatch(/\b\d{6}\b/);
});

test('a user type that requires a second factor is refused after the code, never signed in', async () => {
  const { agent, code } = await toCodePage('boss@example.com');
  const mail = await smtp.waitFor((m) => m.to.includes('boss@example.com'));
  const result = await agent.submit(code, 'Verify code', { code: codeFromSubject(mail)! });
  expect(result.status).toBe(403);
  expect(textOf(result.html)).toContain('Your account needs a second factor');
  expect(result.html).not.toContain('You are signed in');
  expect(result.html).not.toContain('>Continue</button>');
});

// Sessions end by themselves after inactivity and the next sign-in says why.
// In-process server with a clock the test moves (nothing sleeps 8 hours).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as oidc from 'openid-client';
import { providerViews } from '../../interactions/provider-views.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import type { MailMessage } from '../../src/mail/index.js';
import { createApp } from '../../src/server.js';
import { openServices, type Services } from '../../src/services.js';
import { Agent, textOf } from '../helpers/browserless.js';
import { createTestEnv, type TestEnv } from '../helpers/env.js';
import { freePort } from '../helpers/process.js';
import { pkceAuthorization, relyingParty } from '../helpers/oidc.js';

let env: TestEnv;
let services: Services;
let server: http.Server;
let base: string;
let rp: oidc.Configuration;
let stopWorker: () => Promise<void>;
const clock = new ManualClock(new Date());
const sent: MailMessage[] = [];
const CB = 'https://portal.example.com/cb';

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  env = await createTestEnv({ PUBLIC_URL: base, PORT: String(port), LOG_LEVEL: 'silent' });
  const config = loadConfig(env.vars);
  services = await openServices(config, {
    clock,
    views: providerViews,
    log: createLogger(config),
    transport: { kind: 'smtp', send: async (m) => void sent.push(m) },
  });
  const [worker] = services.startBackground!();
  stopWorker = () => worker!.stop();
  server = http.createServer(createApp(services).callback());
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const { client, clientSecret } = await services.clients.create({ tenant: 'demo', name: 'Portal', redirectUris: [CB] });
  await services.users.add({ tenant: 'demo', email: 'idle@example.com' });
  rp = await relyingParty(`${base}/demo`, { client_id: client.clientId, client_secret: clientSecret });
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await stopWorker?.();
  await services?.close();
  await env?.cleanup();
});

async function authorize(agent: Agent) {
  const { url } = await pkceAuthorization(rp, CB);
  return agent.go(url, {}, base);
}

async function waitForMail(to: string) {
  for (let i = 0; i < 100; i++) {
    const m = sent.find((x) => x.to === to);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no mail');
}

test('a session slides with use, ends after idleTimeoutSeconds of inactivity, and the next sign-in says why', async () => {
  const idle = services.tenants.get('demo')!.session.idleTimeoutSeconds;
  const agent = new Agent();
  const first = await authorize(agent);
  const send = await agent.submit(first, 'Sign in', { email: 'idle@example.com' });
  expect(textOf(first.html)).not.toContain('inactive');
  const code = await agent.submit(send, 'Send verification code');
  const mail = await waitForMail('idle@example.com');
  const signedIn = await agent.submit(code, 'Verify code', { code: /^(\d+) /.exec(mail.subject)![1]! });
  const back = await agent.submit(signedIn, 'Continue', {}, base);
  expect(back.url.startsWith(CB)).toBe(true);

  // Used within the idle window, the session carries the user straight back (and slides).
  for (let i = 0; i < 2; i++) {
    clock.advance(idle - 60);
    const sso = await authorize(agent);
    expect(sso.url.startsWith(`${CB}?code=`)).toBe(true);
  }

  // Idle for longer than the timeout: sign in again, and the page says why.
  clock.advance(idle + 1);
  const again = await authorize(agent);
  expect(again.url).toMatch(/\/demo\/interaction\//);
  expect(textOf(again.html)).toContain('You were signed out because you were inactive for a while.');

  // A fresh browser is not told anything.
  const fresh = await authorize(new Agent());
  expect(textOf(fresh.html)).not.toContain('inactive');
});

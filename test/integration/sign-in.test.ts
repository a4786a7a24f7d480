// The email one-time-code sign-in end to end against a real server process,
// a real SMTP server and openid-client as the portal: Sign in → Send
// verification code → Verify code → Continue, then the code exchange.
import * as oidc from 'openid-client';
import { Agent, textOf, type Page } from '../helpers/browserless.js';
import { createTestEnv, type TestEnv } from '../helpers/env.js';
import { oauthError } from '../helpers/oauth.js';
import { cliJson, freePort, startServer, type ServerProcess } from '../helpers/process.js';
import { codeFromSubject, startSmtp, type SmtpCapture } from '../helpers/smtp.js';
import { pkceAuthorization, relyingParty } from '../helpers/oidc.js';

let env: TestEnv;
let server: ServerProcess;
let smtp: SmtpCapture;
let portal: { client_id: string; client_secret: string };
let app: { client_id: string };
const PORTAL_CB = 'https://portal.example.com/callback';
const APP_CB = 'com.example.app:/oauth/callback';

beforeAll(async () => {
  smtp = await startSmtp();
  env = await createTestEnv({ SMTP_URL: smtp.url, MAIL_FROM: 'Sign-in <signin@idp.example.com>' });
  server = await startServer(env.vars);
  portal = await cliJson(['clients', 'create', '--tenant', 'demo', '--name', 'Customer portal', '--redirect-uri', PORTAL_CB], env.vars);
  app = await cliJson(['clients', 'create', '--tenant', 'demo', '--name', 'Mobile app', '--public', '--redirect-uri', APP_CB], env.vars);
  await cliJson(['users', 'add', '--tenant', 'demo', '--email', 'Jane.Doe@Example.com', '--name', 'Jane Doe'], env.vars);
  // One user per test: the resend cooldown is per email.
  for (const name of ['native', 'restart', 'consent-deny', 'consent-allow', 'cooldown', 'known']) {
    await cliJson(['users', 'add', '--tenant', 'demo', '--email', `${name}@example.com`], env.vars);
  }
});

afterAll(async () => {
  await server?.stop();
  await smtp?.close();
  await env?.cleanup();
});

const rp = (clientId: string, secret?: string) => relyingParty(`${server.url}/demo`, { client_id: clientId, client_secret: secret });
const authorize = pkceAuthorization;

/** Steps 1 and 2: email, Sign in, Send verification code; then the code from the mail that arrives. */
async function requestCode(agent: Agent, start: string, email: string, isRecipient = (to: string[]) => to.includes(email)) {
  const emailPage = await agent.go(start);
  const sendPage = await agent.submit(emailPage, 'Sign in', { email });
  const before = smtp.messages.length;
  const codePage = await agent.submit(sendPage, 'Send verification code');
  const mail = await smtp.waitFor((m) => smtp.messages.indexOf(m) >= before && isRecipient(m.to));
  return { emailPage, sendPage, codePage, code: codeFromSubject(mail)! };
}

/** Walks the four steps; returns the redirect back to the client. */
async function signIn(agent: Agent, start: string, email: string, opts: { mailTo?: string } = {}): Promise<{ callback: string; pages: Page[] }> {
  const to = (opts.mailTo ?? email).toLowerCase();
  const { emailPage, sendPage, codePage, code } = await requestCode(agent, start, email, (rcpt) => rcpt.some((a) => a.toLowerCase() === to));
  const pages: Page[] = [emailPage, sendPage, codePage];
  expect(emailPage.status).toBe(200);
  expect(textOf(sendPage.html)).toContain('We will send a verification code to');
  expect(textOf(codePage.html)).toContain('Verification code');
  const signedIn = await agent.submit(codePage, 'Verify code', { code });
  pages.push(signedIn);
  expect(textOf(signedIn.html)).toContain('You are signed in');
  const back = await agent.submit(signedIn, 'Continue', {}, server.url);
  return { callback: back.url, pages };
}

test('a portal signs a user in with an emailed code and gets an ID token with email, amr and auth_time', async () => {
  const config = await rp(portal.client_id, portal.client_secret);
  const { url, verifier, state } = await authorize(config, PORTAL_CB, { nonce: 'n-1' });
  const started = Math.floor(Date.now() / 1000);
  const { callback } = await signIn(new Agent(), url, 'jane.doe@example.com', { mailTo: 'Jane.Doe@Example.com' });

  const cb = new URL(callback);
  expect(cb.origin + cb.pathname).toBe(PORTAL_CB);
  expect(cb.searchParams.get('iss')).toBe(`${server.url}/demo`);
  const tokens = await oidc.authorizationCodeGrant(config, cb, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: 'n-1' });
  const claims = tokens.claims()!;
  expect(claims.email).toBe('Jane.Doe@Example.com');
  expect(claims.email_verified).toBe(true);
  expect(claims.name).toBe('Jane Doe');
  expect(claims.amr).toEqual(['otp']);
  expect(claims.acr).toBe('urn:otp-idp:acr:email-otp');
  expect(claims.auth_time).toBeGreaterThanOrEqual(started - 1);
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  expect(userinfo.email).toBe('Jane.Doe@Example.com');

  // The code arrived by real SMTP, named the code and the portal, said how long it is valid.
  const mail = smtp.messages.find((m) => m.to.some((a) => a.toLowerCase() === 'jane.doe@example.com'))!;
  expect(mail.subject).toMatch(/^\d{6} is your verification code for Demo Portal$/);
  expect(mail.raw).toMatch(/^From: "?Demo Portal"? <signin@idp\.example\.com>/m);
  expect(mail.text).toContain('valid for 30 minutes, until');
  expect(mail.text).toContain('Did you not try to sign in?');
  // The code is never logged.
  expect(server.logs.join('\n')).not.toContain(codeFromSubject(mail)!);
  // Operators see the outcome.
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  expect(metrics).toMatch(/otp_idp_sign_in_events_total\{tenant="demo",event="signed_in"\} [1-9]/);
  expect(metrics).toMatch(/otp_idp_sign_in_events_total\{tenant="demo",event="code_sent"\} [1-9]/);
  expect(metrics).toMatch(/otp_idp_mail_outbox_pending \d+/);
});

test('a public native app completes the flow with PKCE; without PKCE it is refused', async () => {
  const config = await rp(app.client_id);
  const { url, verifier, state } = await authorize(config, APP_CB);
  const { callback } = await signIn(new Agent(), url, 'native@example.com');
  expect(callback).toMatch(new RegExp(`^${APP_CB.replace(/[.:/]/g, '\\$&')}\\?`));
  const tokens = await oidc.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: verifier, expectedState: state });
  expect(tokens.claims()!.email).toBe('native@example.com');

  const noPkce = new URL(`${server.url}/demo/auth`);
  noPkce.search = new URLSearchParams({ client_id: app.client_id, redirect_uri: APP_CB, response_type: 'code', scope: 'openid', state: 's' }).toString();
  const refused = await new Agent().go(noPkce.href, {}, server.url);
  const back = new URL(refused.url);
  expect(back.searchParams.get('error')).toBe('invalid_request');
  expect(back.searchParams.get('error_description')).toMatch(/PKCE/);
});

test('a native app asking for offline_access (with prompt=consent) gets rotating refresh tokens', async () => {
  await cliJson(['users', 'add', '--tenant', 'demo', '--email', 'offline@example.com'], env.vars);
  const config = await rp(app.client_id);
  const { url, verifier, state } = await authorize(config, APP_CB, { scope: 'openid email offline_access', prompt: 'consent' });
  const agent = new Agent();
  const { codePage, code } = await requestCode(agent, url, 'offline@example.com');
  const signedIn = await agent.submit(codePage, 'Verify code', { code });
  const consent = await agent.submit(signedIn, 'Continue');
  expect(textOf(consent.html)).toContain('Staying signed in when you are not using it');
  const back = await agent.submit(consent, 'Allow', {}, server.url);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(back.url), { pkceCodeVerifier: verifier, expectedState: state });
  expect(tokens.refresh_token).toBeTruthy();

  const first = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  expect(first.access_token).toBeTruthy();
  expect(first.refresh_token).toBeTruthy();
  expect(first.refresh_token).not.toBe(tokens.refresh_token);
  // Reusing a rotated refresh token is refused (and revokes the grant).
  expect(await oauthError(oidc.refreshTokenGrant(config, tokens.refresh_token!))).toBe('invalid_grant');
  expect(await oauthError(oidc.refreshTokenGrant(config, first.refresh_token!))).toBe('invalid_grant');
});

test('an unknown email walks the same pages with the same status codes, and gets no mail', async () => {
  const config = await rp(portal.client_id, portal.client_secret);
  const normalise = (html: string) =>
    html
      .replace(/\/interaction\/[\w-]+/g, '/interaction/UID')
      .replace(/name="csrf" value="[^"]+"/g, 'name="csrf" value="X"')
      .replace(/[a-z]•••@example\.com/g, 'MASKED')
      .replace(/data-cooldown="\d+"/g, 'data-cooldown="N"');
  const run = async (email: string) => {
    const agent = new Agent();
    const { url } = await authorize(config, PORTAL_CB);
    const emailPage = await agent.go(url);
    const sendPage = await agent.submit(emailPage, 'Sign in', { email });
    const t0 = performance.now();
    const codePage = await agent.submit(sendPage, 'Send verification code');
    const sendMs = performance.now() - t0;
    const wrong = await agent.submit(codePage, 'Verify code', { code: '000000' });
    return { pages: [emailPage, sendPage, codePage, wrong], sendMs };
  };
  const before = smtp.messages.length;
  const known = await run('known@example.com');
  await smtp.waitFor((m) => smtp.messages.indexOf(m) >= before && m.to.includes('known@example.com'));
  const unknown = await run('nobody@example.com');
  expect(unknown.pages.map((p) => p.status)).toEqual(known.pages.map((p) => p.status));
  expect(unknown.pages.map((p) => normalise(p.html))).toEqual(known.pages.map((p) => normalise(p.html)));
  expect(textOf(unknown.pages[3]!.html)).toContain('That code is not right. You have 4 attempts left.');
  await new Promise((r) => setTimeout(r, 1500));
  expect(smtp.messages.some((m) => m.to.includes('nobody@example.com'))).toBe(false);
});

test('a sign-in in progress survives a server restart', async () => {
  const config = await rp(portal.client_id, portal.client_secret);
  const { url, verifier, state } = await authorize(config, PORTAL_CB);
  const agent = new Agent();
  const { codePage, code } = await requestCode(agent, url, 'restart@example.com');

  await server.stop();
  server = await startServer({ ...env.vars, PORT: String(server.port) });

  const signedIn = await agent.submit(codePage, 'Verify code', { code });
  expect(textOf(signedIn.html)).toContain('You are signed in');
  const back = await agent.submit(signedIn, 'Continue', {}, server.url);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(back.url), { pkceCodeVerifier: verifier, expectedState: state });
  expect(tokens.access_token).toBeTruthy();
});

test('SMTP down when the code is requested: the mail arrives once SMTP is back, and the code works', async () => {
  const port = await freePort();
  const downEnv = await createTestEnv({ SMTP_URL: `smtp://127.0.0.1:${port}` });
  const downServer = await startServer(downEnv.vars);
  let late: SmtpCapture | undefined;
  try {
    const client = await cliJson<{ client_id: string; client_secret: string }>(
      ['clients', 'create', '--tenant', 'demo', '--name', 'P', '--redirect-uri', PORTAL_CB],
      downEnv.vars,
    );
    const config = await relyingParty(`${downServer.url}/demo`, client);
    const { url, verifier, state } = await authorize(config, PORTAL_CB);
    const agent = new Agent();
    const emailPage = await agent.go(url);
    const sendPage = await agent.submit(emailPage, 'Sign in', { email: 'demo@example.com' });
    const t0 = performance.now();
    const codePage = await agent.submit(sendPage, 'Send verification code');
    // The send step never waits on SMTP.
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(textOf(codePage.html)).toContain('Verification code');
    await new Promise((r) => setTimeout(r, 2500)); // a failed attempt or two
    late = await startSmtp(port);
    const mail = await late.waitFor((m) => m.to.includes('demo@example.com'), 30000);
    const signedIn = await agent.submit(codePage, 'Verify code', { code: codeFromSubject(mail)! });
    const back = await agent.submit(signedIn, 'Continue', {}, downServer.url);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(back.url), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.claims()!.email).toBe('demo@example.com');
    await new Promise((r) => setTimeout(r, 1500));
    expect(late.messages.filter((m) => m.to.includes('demo@example.com'))).toHaveLength(1);
  } finally {
    await downServer.stop();
    await late?.close();
    await downEnv.cleanup();
  }
});

test('a third-party client gets a consent page; deny returns access_denied, allow returns a code', async () => {
  const third = await cliJson<{ client_id: string; client_secret: string }>(
    ['clients', 'create', '--tenant', 'demo', '--name', 'Partner app', '--third-party', '--redirect-uri', 'https://partner.example.com/cb'],
    env.vars,
  );
  const config = await rp(third.client_id, third.client_secret);
  for (const decision of ['Deny', 'Allow'] as const) {
    const { url } = await authorize(config, 'https://partner.example.com/cb');
    const agent = new Agent();
    const { codePage, code } = await requestCode(agent, url, `consent-${decision.toLowerCase()}@example.com`);
    const signedIn = await agent.submit(codePage, 'Verify code', { code });
    const consent = await agent.submit(signedIn, 'Continue');
    expect(textOf(consent.html)).toContain('Partner app wants to access your account.');
    expect(textOf(consent.html)).toContain('Your email address');
    const back = new URL((await agent.submit(consent, decision, {}, server.url)).url);
    if (decision === 'Deny') expect(back.searchParams.get('error')).toBe('access_denied');
    else expect(back.searchParams.get('code')).toBeTruthy();
  }
});

test('forms without the CSRF token are refused; an unknown interaction gets a friendly page', async () => {
  const config = await rp(portal.client_id, portal.client_secret);
  const { url } = await authorize(config, PORTAL_CB);
  const agent = new Agent();
  const emailPage = await agent.go(url);
  const action = /action="([^"]+\/email)"/.exec(emailPage.html)![1]!;
  const forged = await agent.request(new URL(action, server.url).href, { form: { email: 'demo@example.com', csrf: 'forged' } });
  expect(forged.status).toBe(403);
  expect(textOf(forged.html)).toContain('This form has expired');

  const huge = await agent.request(new URL(action, server.url).href, { form: { email: 'x'.repeat(100_000), csrf: 'forged' } });
  expect(huge.status).toBe(413);
  expect(huge.html).toContain('<html lang="en">');
  expect(huge.html).not.toMatch(/at .*\.js:\d+/);

  const stale = await new Agent().request(`${server.url}/demo/interaction/does-not-exist`);
  expect(stale.status).toBe(410);
  expect(textOf(stale.html)).toContain('This sign-in has expired');
  expect(stale.html).not.toMatch(/at .*\.js:\d+/);
});

test('"Send new code" is refused during the cooldown', async () => {
  const config = await rp(portal.client_id, portal.client_secret);
  const { url } = await authorize(config, PORTAL_CB);
  const agent = new Agent();
  const { codePage } = await requestCode(agent, url, 'cooldown@example.com');
  expect(codePage.html).toMatch(/data-cooldown="\d+"/);
  const again = await agent.submit(codePage, 'Send new code');
  expect(textOf(again.html)).toMatch(/Please wait \d+ seconds before asking for a new code/);
});

// Language: ui_locales, then Accept-Language, then the tenant default; pages and
// the code email in Dutch; <html lang>; tenant assets with cache headers.
import { Agent, textOf } from '../helpers/browserless.js';
import { createTestEnv, type TestEnv } from '../helpers/env.js';
import { cliJson, startServer, type ServerProcess } from '../helpers/process.js';
import { codeFromSubject, startSmtp, type SmtpCapture } from '../helpers/smtp.js';
import { pkceAuthorization, relyingParty } from '../helpers/oidc.js';

let env: TestEnv;
let server: ServerProcess;
let smtp: SmtpCapture;
const CB = 'https://portal.example.com/cb';
const clients: Record<string, { client_id: string; client_secret: string }> = {};

beforeAll(async () => {
  smtp = await startSmtp();
  env = await createTestEnv({ SMTP_URL: smtp.url });
  server = await startServer(env.vars);
  for (const tenant of ['demo', 'acme']) {
    clients[tenant] = await cliJson(['clients', 'create', '--tenant', tenant, '--name', 'Portal', '--redirect-uri', CB], env.vars);
  }
  for (const email of ['ui@example.com', 'accept@example.com', 'en@example.com']) {
    await cliJson(['users', 'add', '--tenant', 'demo', '--email', email], env.vars);
  }
  await cliJson(['users', 'add', '--tenant', 'acme', '--email', 'medewerker@acme.example'], env.vars);
});

afterAll(async () => {
  await server?.stop();
  await smtp?.close();
  await env?.cleanup();
});

async function start(tenant: string, params: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const config = await relyingParty(`${server.url}/${tenant}`, clients[tenant]!);
  const { url } = await pkceAuthorization(config, CB, params);
  const agent = new Agent(headers);
  return { agent, page: await agent.go(url) };
}

async function toCodeEmail(tenant: string, email: string, params: Record<string, string>, headers: Record<string, string>, buttons: [string, string]) {
  const { agent, page } = await start(tenant, params, headers);
  const send = await agent.submit(page, buttons[0], { email });
  const before = smtp.messages.length;
  const code = await agent.submit(send, buttons[1]);
  const mail = await smtp.waitFor((m) => smtp.messages.indexOf(m) >= before && m.to.includes(email));
  return { page, send, code, mail };
}

test('ui_locales=nl: every page and the code email are in Dutch', async () => {
  const { page, send, code, mail } = await toCodeEmail('demo', 'ui@example.com', { ui_locales: 'nl' }, {}, ['Inloggen', 'Verificatiecode versturen']);
  expect(page.html).toContain('<html lang="nl">');
  expect(textOf(page.html)).toContain('E-mailadres');
  expect(textOf(send.html)).toContain('We sturen een verificatiecode naar u•••@example.com.');
  expect(textOf(code.html)).toContain('Code controleren');
  expect(textOf(code.html)).toContain('Nieuwe code versturen');
  expect(mail.subject).toMatch(/^\d{6} is uw verificatiecode voor Demo Portal$/);
  expect(mail.text).toContain('De code is 30 minuten geldig, tot');
  // Dates in the email follow the locale (Dutch month names).
  expect(mail.text).toMatch(/tot \d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december)( om)? \d{2}:\d{2}/);
  const signedIn = await new Agent().request(server.url); // unrelated agent: no state leaks
  expect(signedIn.status).toBe(200);
  expect(codeFromSubject(mail)).toMatch(/^\d{6}$/);
});

test('Accept-Language: nl gives Dutch when ui_locales is absent; ui_locales wins over it', async () => {
  const dutch = await toCodeEmail('demo', 'accept@example.com', {}, { 'accept-language': 'nl-NL,nl;q=0.9,en;q=0.5' }, ['Inloggen', 'Verificatiecode versturen']);
  expect(dutch.page.html).toContain('<html lang="nl">');
  expect(dutch.mail.subject).toContain('is uw verificatiecode voor');
  const { page } = await start('demo', { ui_locales: 'en' }, { 'accept-language': 'nl' });
  expect(page.html).toContain('<html lang="en">');
  expect(textOf(page.html)).toContain('Email address');
});

test('without either, the tenant default: English for demo, Dutch for acme', async () => {
  const demo = await start('demo');
  expect(demo.page.html).toContain('<html lang="en">');
  const acme = await start('acme');
  expect(acme.page.html).toContain('<html lang="nl">');
  expect(textOf(acme.page.html)).toContain('Log in bij Acme Employee Portal');
});

test('the language switcher changes the language and remembers it', async () => {
  const { agent, page } = await start('demo');
  const link = /<a href="([^"]+)" hreflang="nl"/.exec(page.html)![1]!.replace(/&amp;/g, '&');
  const dutch = await agent.go(new URL(link, server.url).href);
  expect(dutch.html).toContain('<html lang="nl">');
  const again = await agent.go(dutch.url.replace(/[?&]lang=nl/, ''));
  expect(again.html).toContain('<html lang="nl">');
});

test('acme uses 8-digit codes, its own sender name and support contact', async () => {
  const { code, mail } = await toCodeEmail('acme', 'medewerker@acme.example', {}, {}, ['Inloggen', 'Verificatiecode versturen']);
  expect(codeFromSubject(mail)).toMatch(/^\d{8}$/);
  expect(mail.subject).toContain('Acme Employee Portal');
  expect(mail.raw).toMatch(/^From: "?Acme IT"?/m);
  expect(mail.text).toContain('it-helpdesk@acme.example');
  expect(textOf(code.html)).toContain('De code van 8 cijfers uit de e-mail.');
});

test('tenant assets are served with cache headers; tenant.json is not', async () => {
  const logo = await fetch(`${server.url}/acme/assets/logo.svg`);
  expect(logo.status).toBe(200);
  expect(logo.headers.get('content-type')).toBe('image/svg+xml');
  expect(logo.headers.get('cache-control')).toMatch(/max-age=\d+/);
  const theme = await (await fetch(`${server.url}/acme/assets/theme.css`)).text();
  expect(theme).toContain('--primary: #0b6e4f;');
  expect((await fetch(`${server.url}/acme/assets/tenant.json`)).status).toBe(404);
  expect((await fetch(`${server.url}/acme/assets/..%2F..%2Fpackage.json`)).status).toBe(404);
});

// The newcomer's path from the README, in a real browser against a real
// server process: demo portal → Sign in → demo@example.com → Sign in → Send
// verification code → code from the dev mailbox → Verify code → Continue →
// the portal shows the claims → Sign out. Plus axe-core on every sign-in
// step and a 360 px wide phone.
import type { Browser, Page } from 'playwright-core';
import { axeCheck, launchBrowser, newPage, screenshot, type AxeViolation } from '../helpers/browser.js';
import { createTestEnv, type TestEnv } from '../helpers/env.js';
import { startServer, type ServerProcess } from '../helpers/process.js';

let env: TestEnv;
let server: ServerProcess;
let browser: Browser;
/** The newcomer's tab, still signed in to the portal after the first test. */
let portalPage: Page | undefined;
/** Serious and critical axe violations per sign-in page, filled by the first test. */
const axeResults: Record<string, AxeViolation[]> = {};
const AXE_PAGES = ['email', 'send', 'code', 'code-wrong', 'signed-in'];

beforeAll(async () => {
  env = await createTestEnv();
  server = await startServer(env.vars);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await env?.cleanup();
});

/** The newest verification code for `to` in the dev mailbox, read in a second tab. */
async function codeFromMailbox(mailbox: Page, to: string, timeoutMs = 20000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await mailbox.goto(`${server.url}/dev/mailbox`);
    const newest = mailbox.locator('article.dev-mail').filter({ hasText: `To ${to}` }).first();
    if ((await newest.count()) > 0) {
      const subject = (await newest.getByRole('heading', { level: 2 }).textContent())?.trim() ?? '';
      const m = /^(\d{6,10}) is your verification code for Demo Portal$/.exec(subject);
      if (!m) throw new Error(`unexpected subject in the dev mailbox: ${subject}`);
      return m[1]!;
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${to} in the dev mailbox:\n${await mailbox.locator('main').innerText()}`);
    await mailbox.waitForTimeout(250);
  }
}

test('a newcomer signs in to the demo portal with the code from the dev mailbox and sees the claims', async () => {
  const page = await newPage(browser);
  portalPage = page;

  await page.goto(`${server.url}/`);
  await expect(page.getByRole('heading', { name: 'Demo Portal' }).isVisible()).resolves.toBe(true);
  await page.getByRole('link', { name: 'Sign in', exact: true }).click();

  // 1 email
  const email = page.getByLabel('Email address');
  await email.waitFor();
  expect(new URL(page.url()).pathname).toMatch(/^\/demo\/interaction\//);
  await email.fill('demo@example.com');
  await screenshot(page, 'newcomer-1-email');
  axeResults.email = await axeCheck(page);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();

  // 2 send
  const send = page.getByRole('button', { name: 'Send verification code' });
  await send.waitFor();
  await expect(page.locator('main').innerText()).resolves.toContain('We will send a verification code to d•••@example.com.');
  await screenshot(page, 'newcomer-2-send');
  axeResults.send = await axeCheck(page);
  await send.click();

  // 3 code: read it from the dev mailbox in a second tab.
  const codeInput = page.getByLabel('Verification code');
  await codeInput.waitFor();
  axeResults.code = await axeCheck(page);
  const mailbox = await page.context().newPage();
  const code = await codeFromMailbox(mailbox, 'demo@example.com');
  await mailbox.close();
  await page.bringToFront();

  // A wrong code first: the error is shown on the code page.
  await codeInput.fill('000000');
  await page.getByRole('button', { name: 'Verify code' }).click();
  const error = page.getByRole('alert');
  await error.waitFor();
  await expect(error.innerText()).resolves.toContain('That code is not right.');
  await screenshot(page, 'newcomer-3-code-wrong');
  axeResults['code-wrong'] = await axeCheck(page);

  await page.getByLabel('Verification code').fill(code);
  await screenshot(page, 'newcomer-3-code');
  await page.getByRole('button', { name: 'Verify code' }).click();

  // 4 signed in
  await page.getByRole('heading', { name: 'You are signed in' }).waitFor();
  await expect(page.locator('main').innerText()).resolves.toContain('You are signed in as demo@example.com.');
  await screenshot(page, 'newcomer-4-signed-in');
  axeResults['signed-in'] = await axeCheck(page);
  await page.getByRole('button', { name: 'Continue' }).click();

  // 5 back at the portal, with the claims of the ID token.
  const claims = page.locator('[data-testid=claims]');
  await claims.waitFor();
  expect(new URL(page.url()).href).toBe(`${server.url}/`);
  const text = (await claims.textContent()) ?? '';
  expect(text).toContain('"email": "demo@example.com"');
  expect(text).toContain('"email_verified": true');
  expect(text).toMatch(/"amr": \[\s*"otp"\s*\]/);
  await screenshot(page, 'newcomer-5-portal');
});

test('the sign-in pages have no serious or critical axe violations (email, send, code, wrong code, signed in)', () => {
  // Filled while the first test walked the pages; a page it never reached counts as missing.
  const report = Object.fromEntries(AXE_PAGES.map((p) => [p, axeResults[p] ?? 'not reached']));
  expect(report).toEqual(Object.fromEntries(AXE_PAGES.map((p) => [p, []])));
});

test('Sign out on the portal, confirmed on the sign-out page, ends on the signed-out front page', async () => {
  expect(portalPage).toBeDefined();
  const page = portalPage!;
  await page.locator('[data-testid=claims]').waitFor({ timeout: 5000 });
  await page.getByRole('link', { name: 'Sign out' }).click();

  await page.getByRole('heading', { name: 'Sign out' }).waitFor();
  await expect(page.locator('main').innerText()).resolves.toContain('Do you want to sign out of Demo Portal?');
  await screenshot(page, 'newcomer-6-sign-out');
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();

  const signIn = page.getByRole('link', { name: 'Sign in', exact: true });
  await signIn.waitFor();
  expect(new URL(page.url()).href).toBe(`${server.url}/`);
  await expect(signIn.isVisible()).resolves.toBe(true);
  await expect(page.locator('[data-testid=claims]').count()).resolves.toBe(0);
  await screenshot(page, 'newcomer-7-signed-out');
});

test('on a 360 px wide phone the code page has no horizontal scroll and "Verify code" is visible', async () => {
  const page = await newPage(browser, { viewport: { width: 360, height: 740 } });
  try {
    await page.goto(`${server.url}/`);
    await page.getByRole('link', { name: 'Sign in', exact: true }).click();
    // Another address than the newcomer's: the same pages, and no resend cooldown in the way.
    await page.getByLabel('Email address').fill('phone@example.com');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Send verification code' }).click();
    await page.getByLabel('Verification code').waitFor();
    await screenshot(page, 'newcomer-360-code');
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(scrollWidth).toBeLessThanOrEqual(360);
    const verify = page.getByRole('button', { name: 'Verify code' });
    await expect(verify.isVisible()).resolves.toBe(true);
    // Not cut off at the side either.
    const box = await verify.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(360);
  } finally {
    await page.context().close();
  }
});

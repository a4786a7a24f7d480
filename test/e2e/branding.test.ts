// The two shipped tenants in a real browser (Chromium via playwright-core)
// against one real server process: each looks like itself (computed colours,
// logo, title, screenshots at desktop and 360 px), every sign-in page passes
// axe-core in both languages, errors are tied to their inputs, the keyboard
// order is email → Sign in, and reduced motion turns the button transition off.
// Codes come from the dev mailbox JSON, so no SMTP server is needed.
import type { Browser, Page } from 'playwright-core';
import { axeCheck, launchBrowser, newPage, screenshot, type AxeViolation } from '../helpers/browser.js';
import { createTestEnv, type TestEnv } from '../helpers/env.js';
import { cliJson, startServer, type ServerProcess } from '../helpers/process.js';
import { pkceAuthorization, relyingParty } from '../helpers/oidc.js';

type Slug = 'demo' | 'acme';
type Lang = 'en' | 'nl';

let env: TestEnv;
let server: ServerProcess;
let browser: Browser;

const PORTAL_CB = 'https://portal.example.com/cb';
const PARTNER_CB = 'https://partner.example.com/cb';
const USERS: Record<Slug, string> = { demo: 'branding@example.com', acme: 'branding@acme.example' };
const portals: Partial<Record<Slug, { client_id: string; client_secret: string }>> = {};
const partners: Partial<Record<Slug, { client_id: string; client_secret: string }>> = {};

/** The copy each walk needs: demo is walked in English, acme in Dutch (its default). */
const COPY = {
  en: {
    signIn: 'Sign in',
    send: 'Send verification code',
    verify: 'Verify code',
    signedIn: 'You are signed in',
    continue: 'Continue',
    consent: 'Allow access',
    allow: 'Allow',
    logout: 'Sign out',
    signOut: 'Sign out',
    signedOut: 'You are signed out',
    wrong: 'That code is not right.',
    emailInvalid: 'Enter an email address',
    expired: 'This sign-in has expired',
    notFound: 'Page not found',
  },
  nl: {
    signIn: 'Inloggen',
    send: 'Verificatiecode versturen',
    verify: 'Code controleren',
    signedIn: 'U bent ingelogd',
    continue: 'Doorgaan',
    consent: 'Toegang geven',
    allow: 'Toestaan',
    logout: 'Uitloggen',
    signOut: 'Uitloggen',
    signedOut: 'U bent uitgelogd',
    wrong: 'Die code klopt niet.',
    emailInvalid: 'Voer een e-mailadres in',
    expired: 'Deze inlogpoging is verlopen',
    notFound: 'Pagina niet gevonden',
  },
} as const;

interface Look {
  buttonBackground: string;
  buttonColor: string;
  bodyBackground: string;
  h1Color: string;
  logoSrc: string;
  logoNaturalWidth: number;
  title: string;
  lang: string;
}

interface ErrorTie {
  invalid: string | null;
  describedBy: string[];
  /** Ids in aria-describedby that name a visible element with text. */
  visibleIds: string[];
  errorText: string;
}

const looks: Partial<Record<Slug, Look>> = {};
const ties: Record<string, ErrorTie> = {};
/** Serious and critical axe violations per page ("<tenant>/<lang>/<page>"), filled as the walks go. */
const axeResults: Record<string, AxeViolation[]> = {};
const WALK_PAGES = ['email', 'email-error', 'send', 'code', 'code-error', 'signed-in', 'consent', 'sign-out', 'signed-out'];
/** demo is walked in English with Dutch consent and sign-out; acme the other way round. */
const WALK_LANG: Record<Slug, { walk: Lang; other: Lang }> = { demo: { walk: 'en', other: 'nl' }, acme: { walk: 'nl', other: 'en' } };
/** The language the signed-out page came in, per tenant. */
const signedOutLang: Partial<Record<Slug, Lang>> = {};

beforeAll(async () => {
  env = await createTestEnv();
  server = await startServer(env.vars);
  browser = await launchBrowser();
  for (const tenant of ['demo', 'acme'] as const) {
    portals[tenant] = await cliJson(['clients', 'create', '--tenant', tenant, '--name', 'Portal', '--redirect-uri', PORTAL_CB], env.vars);
    partners[tenant] = await cliJson(
      ['clients', 'create', '--tenant', tenant, '--name', 'Partner app', '--third-party', '--redirect-uri', PARTNER_CB],
      env.vars,
    );
    await cliJson(['users', 'add', '--tenant', tenant, '--email', USERS[tenant]], env.vars);
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await env?.cleanup();
});

async function authorizationUrl(tenant: Slug, client: { client_id: string; client_secret: string }, redirectUri: string, extra: Record<string, string> = {}) {
  const config = await relyingParty(`${server.url}/${tenant}`, client);
  return (await pkceAuthorization(config, redirectUri, extra)).url;
}

/** Where the authorization endpoint sent each tab back to a portal (newest last). */
const callbacks = new WeakMap<Page, string[]>();
const PORTAL_ORIGIN = /^https:\/\/(portal|partner)\.example\.com\//;

/**
 * A tab in its own context. The portals do not exist, and Playwright does not
 * route the target of a redirect, so the two steps that end at a portal
 * (Continue and the consent decision) are caught as they are posted: their
 * redirect chain is followed here through the context's own request client
 * (same cookie jar, so the session the browser gets is the real one) up to the
 * redirect to a portal, which is recorded and answered with a stub page.
 */
async function tab(locale: string): Promise<Page> {
  const page = await newPage(browser, { locale });
  const context = page.context();
  const seen: string[] = [];
  callbacks.set(page, seen);
  await context.route(
    (url) => url.origin === server.url && /^\/(demo|acme)\/interaction\/[^/]+\/(continue|consent)$/.test(url.pathname),
    async (route) => {
      let res = await route.fetch({ maxRedirects: 0 });
      for (let hops = 0; hops < 5; hops++) {
        const location = res.headers()['location'];
        if (!location || res.status() < 300 || res.status() >= 400) break;
        const next = new URL(location, route.request().url());
        if (PORTAL_ORIGIN.test(next.href)) {
          seen.push(next.href);
          return route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><html lang="en"><title>Portal callback</title><p>callback</p></html>' });
        }
        if (next.origin !== server.url || !/^\/(demo|acme)\/auth\//.test(next.pathname)) {
          // Anything else (another interaction step): let the browser go there itself.
          return route.fulfill({ status: 303, headers: { location: next.href } });
        }
        res = await context.request.get(next.href, { maxRedirects: 0 });
      }
      return route.fulfill({ response: res });
    },
  );
  return page;
}

/** The redirect back to the portal that the last step produced. */
function lastCallback(page: Page): URL {
  const seen = callbacks.get(page) ?? [];
  expect(seen.length).toBeGreaterThan(0);
  return new URL(seen[seen.length - 1]!);
}

/** The newest code for `to` from the dev mailbox JSON (newest first; the subject starts with the code). */
async function codeFromMailbox(to: string, timeoutMs = 15000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${server.url}/dev/mailbox.json?to=${encodeURIComponent(to)}`);
    const mails = (await res.json()) as { subject: string }[];
    const m = mails[0] && /^(\d{6,10}) /.exec(mails[0].subject);
    if (m) return m[1]!;
    if (Date.now() > deadline) throw new Error(`no code for ${to} in the dev mailbox: ${JSON.stringify(mails)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Clicks a button that submits a form and waits until the next page has loaded with its styles. */
async function submit(page: Page, name: string) {
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name, exact: true }).click()]);
}

async function axeInto(key: string, page: Page) {
  axeResults[key] = await axeCheck(page);
}

async function readLook(page: Page): Promise<Look> {
  await page.waitForFunction(() => {
    const img = document.querySelector<HTMLImageElement>('img.logo');
    return !!img && img.complete;
  });
  return page.evaluate(() => {
    const button = document.querySelector<HTMLButtonElement>('main form button[type=submit]:not(.secondary)')!;
    const img = document.querySelector<HTMLImageElement>('img.logo')!;
    return {
      buttonBackground: getComputedStyle(button).backgroundColor,
      buttonColor: getComputedStyle(button).color,
      bodyBackground: getComputedStyle(document.body).backgroundColor,
      h1Color: getComputedStyle(document.querySelector('h1')!).color,
      logoSrc: img.currentSrc || img.src,
      logoNaturalWidth: img.naturalWidth,
      title: document.title,
      lang: document.documentElement.lang,
    };
  });
}

async function readTie(page: Page, selector: string): Promise<ErrorTie> {
  return page.evaluate((sel) => {
    const input = document.querySelector(sel)!;
    const describedBy = (input.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
    const visible = (el: HTMLElement | null) => !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden' && !!el.textContent?.trim();
    const error = document.querySelector<HTMLElement>('[role=alert]');
    return {
      invalid: input.getAttribute('aria-invalid'),
      describedBy,
      visibleIds: describedBy.filter((id) => visible(document.getElementById(id))),
      errorText: error?.textContent?.trim() ?? '',
    };
  }, selector);
}

/**
 * One tenant's whole sign-in in one tab: email (and an invalid email), send,
 * code (look, screenshots, a wrong code), signed in, back at the portal; then
 * a third-party client's consent and the sign-out pages in the other language.
 */
async function walk(tenant: Slug) {
  const { walk: lang, other } = WALK_LANG[tenant];
  const copy = COPY[lang];
  const email = USERS[tenant];
  const page = await tab(lang === 'nl' ? 'nl-NL' : 'en-GB');
  try {
    // 1 email, first with an address that is not one.
    await page.goto(await authorizationUrl(tenant, portals[tenant]!, PORTAL_CB));
    await page.locator('#email').waitFor();
    expect(new URL(page.url()).pathname).toMatch(new RegExp(`^/${tenant}/interaction/`));
    expect(await page.evaluate(() => document.documentElement.lang)).toBe(lang);
    await axeInto(`${tenant}/${lang}/email`, page);
    await page.locator('#email').fill('not-an-email');
    await submit(page, copy.signIn);
    await page.getByRole('alert').waitFor();
    ties[`${tenant}/email`] = await readTie(page, '#email');
    await axeInto(`${tenant}/${lang}/email-error`, page);

    await page.locator('#email').fill(email);
    await submit(page, copy.signIn);

    // 2 send
    await page.getByRole('button', { name: copy.send }).waitFor();
    await axeInto(`${tenant}/${lang}/send`, page);
    await submit(page, copy.send);

    // 3 code: the tenant's look, at desktop width and at 360 px.
    await page.locator('#code').waitFor();
    await axeInto(`${tenant}/${lang}/code`, page);
    looks[tenant] = await readLook(page);
    await screenshot(page, `branding-${tenant}-code`);
    await page.setViewportSize({ width: 360, height: 740 });
    await screenshot(page, `branding-${tenant}-code-360`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await page.setViewportSize({ width: 1280, height: 900 });

    // A wrong code (the right one with its first digit changed) first.
    const code = await codeFromMailbox(email);
    const wrong = String((Number(code[0]) + 1) % 10) + code.slice(1);
    await page.locator('#code').fill(wrong);
    await submit(page, copy.verify);
    await page.getByRole('alert').waitFor();
    ties[`${tenant}/code`] = await readTie(page, '#code');
    expect(ties[`${tenant}/code`]!.errorText).toContain(copy.wrong);
    await axeInto(`${tenant}/${lang}/code-error`, page);
    await screenshot(page, `branding-${tenant}-code-wrong`);

    // 4 signed in, then back at the portal with a code.
    await page.locator('#code').fill(code);
    await submit(page, copy.verify);
    await page.getByRole('heading', { name: copy.signedIn }).waitFor();
    await axeInto(`${tenant}/${lang}/signed-in`, page);
    await submit(page, copy.continue);
    const back = lastCallback(page);
    expect(back.origin + back.pathname).toBe(PORTAL_CB);
    expect(back.searchParams.get('code')).toBeTruthy();
    expect(back.searchParams.get('iss')).toBe(`${server.url}/${tenant}`);

    // Consent for a third-party client: the session is there, so no new code; the other language.
    await page.goto(await authorizationUrl(tenant, partners[tenant]!, PARTNER_CB, { ui_locales: other }));
    await page.getByRole('heading', { name: COPY[other].consent }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe(other);
    await axeInto(`${tenant}/${other}/consent`, page);
    await submit(page, COPY[other].allow);
    const partnerBack = lastCallback(page);
    expect(partnerBack.origin + partnerBack.pathname).toBe(PARTNER_CB);
    expect(partnerBack.searchParams.get('code')).toBeTruthy();

    // Sign out: the confirmation page, then the signed-out page.
    await page.goto(`${server.url}/${tenant}/session/end?ui_locales=${other}`);
    await page.getByRole('heading', { name: COPY[other].logout }).waitFor();
    await axeInto(`${tenant}/${other}/sign-out`, page);
    await submit(page, COPY[other].signOut);
    // The signed-out page is a new request without ui_locales: it keeps the language of the confirmation.
    const heading = (await page.locator('h1').textContent())?.trim() ?? '';
    expect(heading).toBe(COPY[other].signedOut);
    const shown: Lang = other;
    expect(await page.evaluate(() => document.documentElement.lang)).toBe(shown);
    signedOutLang[tenant] = shown;
    await axeInto(`${tenant}/${shown}/signed-out`, page);
  } finally {
    await page.context().close();
  }
}

test('demo: the whole sign-in in English (consent and sign-out in Dutch) in a real browser', async () => {
  await walk('demo');
});

test('acme: the whole sign-in in Dutch, its default (consent and sign-out in English)', async () => {
  await walk('acme');
});

test('the two shipped tenants look clearly different on the code page', () => {
  const { demo, acme } = looks;
  expect(demo).toBeDefined();
  expect(acme).toBeDefined();
  expect(demo!.buttonBackground).toBe('rgb(47, 91, 234)');
  expect(acme!.buttonBackground).toBe('rgb(11, 110, 79)');
  expect(demo!.bodyBackground).toBe('rgb(244, 246, 251)');
  expect(acme!.bodyBackground).toBe('rgb(16, 35, 28)');
  expect(demo!.bodyBackground).not.toBe(acme!.bodyBackground);
  expect(demo!.h1Color).toBe('rgb(28, 35, 51)');
  expect(acme!.h1Color).toBe('rgb(15, 31, 25)');
  expect(demo!.title).toContain('Demo Portal');
  expect(acme!.title).toContain('Acme Employee Portal');
  expect(demo!.title).not.toContain('Acme');
  expect(acme!.title).not.toContain('Demo');
  expect(demo!.logoSrc).toBe(`${server.url}/demo/assets/logo.svg`);
  expect(acme!.logoSrc).toBe(`${server.url}/acme/assets/logo.svg`);
  expect(demo!.logoNaturalWidth).toBeGreaterThan(0);
  expect(acme!.logoNaturalWidth).toBeGreaterThan(0);
  expect([demo!.lang, acme!.lang]).toEqual(['en', 'nl']);
});

test('errors are tied to their inputs: aria-invalid and aria-describedby naming the visible message', () => {
  for (const key of ['demo/email', 'acme/email', 'demo/code', 'acme/code']) {
    const tie = ties[key];
    expect({ key, reached: !!tie }).toEqual({ key, reached: true });
    expect({ key, invalid: tie!.invalid }).toEqual({ key, invalid: 'true' });
    expect(tie!.errorText).not.toBe('');
    // The visible error message's id is among the input's descriptions.
    const errorId = key.endsWith('email') ? 'email-error' : 'code-error';
    expect({ key, describedBy: tie!.describedBy, visible: tie!.visibleIds }).toEqual({
      key,
      describedBy: expect.arrayContaining([errorId]),
      visible: expect.arrayContaining([errorId]),
    });
  }
  expect(ties['demo/email']!.errorText).toContain(COPY.en.emailInvalid);
  expect(ties['acme/email']!.errorText).toContain(COPY.nl.emailInvalid);
});

test('Tab from the top of the email page reaches the email field, then the Sign in button', async () => {
  for (const [tenant, lang] of [['demo', 'en'], ['acme', 'nl']] as const) {
    const page = await tab(lang === 'nl' ? 'nl-NL' : 'en-GB');
    try {
      await page.goto(await authorizationUrl(tenant, portals[tenant]!, PORTAL_CB));
      await page.locator('#email').waitFor();
      // The field has autofocus; start from the top instead: no focus, navigation starting at the page's top-left corner.
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await page.mouse.click(2, 2);
      expect(await page.evaluate(() => document.activeElement === document.body)).toBe(true);
      const order: string[] = [];
      for (let i = 0; i < 8; i++) {
        await page.keyboard.press('Tab');
        order.push(
          await page.evaluate(() => {
            const el = document.activeElement as HTMLElement | null;
            if (!el || el === document.body) return 'body';
            if (el.id) return `#${el.id}`;
            return `${el.tagName.toLowerCase()}${el.getAttribute('type') ? `[type=${el.getAttribute('type')}]` : ''}:${el.textContent?.trim()}`;
          }),
        );
      }
      const emailAt = order.indexOf('#email');
      const buttonAt = order.indexOf(`button[type=submit]:${COPY[lang].signIn}`);
      expect({ tenant, order, emailAt: emailAt >= 0, buttonAfterEmail: buttonAt > emailAt }).toEqual({ tenant, order, emailAt: true, buttonAfterEmail: true });
    } finally {
      await page.context().close();
    }
  }
});

test('prefers-reduced-motion: reduce turns the primary button transition off (and no-preference keeps it)', async () => {
  const page = await tab('en-GB');
  try {
    await page.goto(await authorizationUrl('demo', portals.demo!, PORTAL_CB));
    await page.locator('#email').waitFor();
    const duration = () => page.evaluate(() => getComputedStyle(document.querySelector('main form button[type=submit]')!).transitionDuration);
    await page.emulateMedia({ reducedMotion: 'no-preference' });
    expect(await duration()).toBe('0.15s');
    await page.emulateMedia({ reducedMotion: 'reduce' });
    expect(await duration()).toBe('0s');
  } finally {
    await page.context().close();
  }
});

test('the expired-sign-in and not-found pages, both tenants and both languages: right status, right language', async () => {
  const page = await tab('en-GB');
  try {
    for (const tenant of ['demo', 'acme'] as const) {
      for (const lang of ['en', 'nl'] as const) {
        const expired = await page.goto(`${server.url}/${tenant}/interaction/does-not-exist?lang=${lang}`);
        expect({ tenant, lang, status: expired?.status() }).toEqual({ tenant, lang, status: 410 });
        await page.getByRole('heading', { name: COPY[lang].expired }).waitFor({ timeout: 5000 });
        await axeInto(`${tenant}/${lang}/expired`, page);
        const missing = await page.goto(`${server.url}/${tenant}/nope?lang=${lang}`);
        expect({ tenant, lang, status: missing?.status() }).toEqual({ tenant, lang, status: 404 });
        await page.getByRole('heading', { name: COPY[lang].notFound }).waitFor({ timeout: 5000 });
        await axeInto(`${tenant}/${lang}/not-found`, page);
      }
    }
  } finally {
    await page.context().close();
  }
});

test('no serious or critical axe violations on any sign-in page, both tenants, both languages', () => {
  const expected: string[] = [];
  for (const tenant of ['demo', 'acme'] as const) {
    const { walk: lang, other } = WALK_LANG[tenant];
    for (const p of WALK_PAGES) {
      const l = p === 'signed-out' ? (signedOutLang[tenant] ?? lang) : ['consent', 'sign-out'].includes(p) ? other : lang;
      expected.push(`${tenant}/${l}/${p}`);
    }
    for (const l of ['en', 'nl']) expected.push(`${tenant}/${l}/expired`, `${tenant}/${l}/not-found`);
  }
  // A page a walk never reached counts as missing; the full list is printed on failure.
  const report = Object.fromEntries(expected.map((k) => [k, axeResults[k] ?? 'not reached']));
  expect(report).toEqual(Object.fromEntries(expected.map((k) => [k, []])));
});

// Owns turning a request into a PageContext (tenant + language) and sending pages.
import type { Context } from 'koa';
import type { Tenant } from '../src/tenants/index.js';
import { negotiateLocale, translator, type Locale } from './i18n.js';
import type { PageContext } from './views/layout.js';

const LANG_COOKIE = 'otp_idp_lang';

export function pageContext(ctx: Context, tenant: Tenant | undefined, uiLocales?: string): PageContext {
  const chosen = typeof ctx.query.lang === 'string' ? ctx.query.lang : undefined;
  const allowed = (tenant?.locales ?? ['en', 'nl']) as string[];
  let locale: Locale;
  if (chosen && allowed.includes(chosen)) {
    locale = chosen as Locale;
    rememberLocale(ctx, tenant, locale, 365 * 86400 * 1000);
  } else {
    const remembered = ctx.cookies.get(LANG_COOKIE, { signed: false });
    locale = negotiateLocale(
      tenant,
      remembered && allowed.includes(remembered) ? remembered : uiLocales,
      ctx.get('accept-language'),
    );
  }
  return { tenant, locale, t: translator(locale, tenant), url: ctx.originalUrl };
}

/** Keeps a language choice for the next pages of this tenant. */
export function rememberLocale(ctx: Context, tenant: Tenant | undefined, locale: Locale, maxAgeMs: number): void {
  ctx.cookies.set(LANG_COOKIE, locale, {
    path: tenant ? `/${tenant.slug}` : '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.secure,
    maxAge: maxAgeMs,
    signed: false,
  });
}

export function sendPage(ctx: Context, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}

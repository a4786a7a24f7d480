// Owns the one page layout every sign-in page shares: tenant logo, colours
// (through /<slug>/assets/theme.css), language switcher, help footer.
import type { Tenant } from '../../src/tenants/index.js';
import { html, type SafeHtml } from '../html.js';
import { localeNames, type Locale, type Translate } from '../i18n.js';

export interface PageContext {
  tenant: Tenant | undefined;
  locale: Locale;
  t: Translate;
  /** Current URL path + query, for the language switcher. */
  url?: string;
}

function languageSwitcher(page: PageContext): SafeHtml | '' {
  const locales = (page.tenant?.locales ?? ['en', 'nl']) as Locale[];
  if (!page.url || locales.length < 2) return '';
  const target = (l: Locale) => {
    const u = new URL(page.url!, 'http://x');
    u.searchParams.set('lang', l);
    return u.pathname + u.search;
  };
  return html`<nav class="langs" aria-label="${page.t('lang.switch')}"><ul>${locales.map((l) =>
    l === page.locale
      ? html`<li><span aria-current="true" lang="${l}">${localeNames[l]}</span></li>`
      : html`<li><a href="${target(l)}" hreflang="${l}" lang="${l}">${localeNames[l]}</a></li>`,
  )}</ul></nav>`;
}

export function layout(page: PageContext, title: string, body: SafeHtml): string {
  const tenant = page.tenant;
  const base = tenant ? `/${tenant.slug}/assets` : '';
  const logo = tenant?.branding.logo
    ? html`<img class="logo" src="${base}/${tenant.branding.logo}" alt="${tenant.name}">`
    : html`<span class="logo-text">${tenant?.name ?? 'otp-idp'}</span>`;
  const support = tenant?.support;
  const help =
    support && (support.url || support.email)
      ? html`<footer class="help">${page.t('footer.help')} ${
          support.url
            ? html`<a href="${support.url}">${support.url.replace(/^https?:\/\//, '')}</a>`
            : html`<a href="mailto:${support.email!}">${support.email!}</a>`
        }</footer>`
      : '';
  return html`<!doctype html>
<html lang="${page.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${title} – ${tenant?.name ?? 'otp-idp'}</title>
<link rel="stylesheet" href="/assets/otp-idp.css">
${tenant ? html`<link rel="stylesheet" href="${base}/theme.css">` : ''}
${tenant?.branding.favicon ? html`<link rel="icon" href="${base}/${tenant.branding.favicon}">` : ''}
<script src="/assets/otp-idp.js" defer></script>
</head>
<body>
<div class="page">
<main class="card">
<header class="brand">${logo}</header>
${body}
</main>
${help}
${languageSwitcher(page)}
</div>
</body>
</html>`.value;
}

// Owns the pages that are not a sign-in step: errors, expired sign-ins,
// sign-out confirmation, signed out, session ended.
import { html, raw } from '../html.js';
import { layout, type PageContext } from './layout.js';

export function errorPage(page: PageContext, opts: { error?: string; description?: string; backUrl?: string; clientName?: string }): string {
  const { t } = page;
  return layout(
    page,
    t('page.error.title'),
    html`<h1>${t('page.error.title')}</h1>
<p>${t('page.error.intro')}</p>
${opts.description && !opts.error ? html`<p>${opts.description}</p>` : ''}
${opts.error ? html`<p class="detail"><code>${opts.error}</code>${opts.description ? html` – ${opts.description}` : ''}</p>` : ''}
${opts.backUrl ? html`<p><a class="button secondary" href="${opts.backUrl}">${opts.clientName ? t('page.error.back', { client: opts.clientName }) : t('page.error.retry')}</a></p>` : ''}`,
  );
}

export function expiredPage(page: PageContext, opts: { backUrl?: string; clientName?: string }): string {
  const { t } = page;
  return layout(
    page,
    t('page.expired.title'),
    html`<h1>${t('page.expired.title')}</h1>
<p>${t('page.expired.intro')}</p>
${opts.backUrl ? html`<p><a class="button" href="${opts.backUrl}">${t('page.error.back', { client: opts.clientName ?? '' })}</a></p>` : ''}`,
  );
}

export function notFoundPage(page: PageContext): string {
  const { t } = page;
  return layout(page, t('page.notFound.title'), html`<h1>${t('page.notFound.title')}</h1><p>${t('page.notFound.intro')}</p>`);
}

/** oidc-provider's logout form: `form` is its own markup with the xsrf field. */
export function logoutPage(page: PageContext, form: string): string {
  const { t } = page;
  const portal = page.tenant?.name ?? '';
  return layout(
    page,
    t('page.logout.title'),
    html`<h1>${t('page.logout.title')}</h1>
<p>${t('page.logout.intro', { portal })}</p>
${raw(form)}
<div class="actions">
<button type="submit" form="op.logoutForm" name="logout" value="yes" class="button">${t('button.signOut')}</button>
<button type="submit" form="op.logoutForm" class="button secondary">${t('button.stay')}</button>
</div>`,
  );
}

export function loggedOutPage(page: PageContext): string {
  const { t } = page;
  return layout(
    page,
    t('page.loggedOut.title'),
    html`<h1>${t('page.loggedOut.title')}</h1><p>${t('page.loggedOut.intro', { portal: page.tenant?.name ?? '' })}</p>`,
  );
}

// The pages oidc-provider renders itself (errors, logout), in the tenant's look.
import type { ProviderViews } from '../src/oidc/provider.js';
import { pageContext, rememberLocale } from './render.js';
import { errorPage, expiredPage, loggedOutPage, logoutPage } from './views/pages.js';

export const providerViews: ProviderViews = {
  error(ctx, out, tenant) {
    const page = pageContext(ctx, tenant, ctx.oidc?.params?.ui_locales as string | undefined);
    ctx.set('Cache-Control', 'no-store');
    if (out.error === 'invalid_request' && /interaction|session/i.test(out.error_description ?? '')) {
      return expiredPage(page, {});
    }
    const client = ctx.oidc?.client;
    return errorPage(page, {
      error: out.error,
      ...(out.error_description ? { description: out.error_description } : {}),
      ...(client?.clientName ? { clientName: client.clientName } : {}),
    });
  },
  logout(ctx, form, tenant) {
    const page = pageContext(ctx, tenant, ctx.oidc?.params?.ui_locales as string | undefined);
    // The "signed out" page that follows is a new request without ui_locales: carry the language.
    rememberLocale(ctx, tenant, page.locale, 10 * 60_000);
    return logoutPage(page, form);
  },
  loggedOut(ctx, tenant) {
    return loggedOutPage(pageContext(ctx, tenant));
  },
};

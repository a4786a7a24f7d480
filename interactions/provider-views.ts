// The pages oidc-provider renders itself (errors, logout), in the tenant's look.
import type { ProviderViews } from '../src/oidc/provider.js';
import { pageContext } from './render.js';
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
    return logoutPage(pageContext(ctx, tenant, ctx.oidc?.params?.ui_locales as string | undefined), form);
  },
  loggedOut(ctx, tenant) {
    return loggedOutPage(pageContext(ctx, tenant));
  },
};

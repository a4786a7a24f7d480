// The interaction routes of every tenant: /<slug>/interaction/:uid/...
// The sign-in steps arrive with the email-code issue; until then a clear page.
import type { Context, Next } from 'koa';
import type { Services } from '../src/services.js';
import { html } from './html.js';
import { pageContext, sendPage } from './render.js';
import { layout } from './views/layout.js';

export function createInteractionRouter(_services: Services) {
  return async (ctx: Context, _next: Next) => {
    const page = pageContext(ctx, ctx.state.tenant);
    sendPage(ctx, 503, layout(page, 'Sign-in not yet available', html`<h1>Sign-in is not yet available</h1><p>This identity provider does not offer interactive sign-in yet.</p>`));
  };
}

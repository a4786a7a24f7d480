// Development-only routes: the dev mailbox. Never mounted when NODE_ENV=production.
// GET /dev/mailbox       the newest 50 messages as a page
// GET /dev/mailbox.json  the same as JSON, optional ?to=<email> (case-insensitive)
import Router from '@koa/router';
import type { Services } from '../src/services.js';
import { html } from './html.js';
import { pageContext, sendPage } from './render.js';
import { layout } from './views/layout.js';

const LIMIT = 50;

interface MailboxRow {
  id: number;
  tenant: string;
  to_address: string;
  from_address: string;
  subject: string;
  text_body: string;
  html_body: string | null;
  created_at: Date;
}

export function createDevRoutes(services: Services) {
  const router = new Router();

  const newest = (to?: string) => {
    const q = services.db<MailboxRow>('dev_mailbox').select('*').orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ]);
    if (to) q.whereRaw('lower(to_address) = lower(?)', [to.trim()]);
    return q.limit(LIMIT);
  };

  router.get('/dev/mailbox.json', async (ctx) => {
    const to = typeof ctx.query.to === 'string' && ctx.query.to ? ctx.query.to : undefined;
    const rows = await newest(to);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = rows.map((r) => ({
      id: Number(r.id),
      tenant: r.tenant,
      to: r.to_address,
      from: r.from_address,
      subject: r.subject,
      text: r.text_body,
      html: r.html_body,
      created_at: new Date(r.created_at).toISOString(),
    }));
  });

  router.get('/dev/mailbox', async (ctx) => {
    const rows = await newest();
    const items = rows.map(
      (r) => html`<article class="dev-mail">
<h2>${r.subject}</h2>
<p>To <strong>${r.to_address}</strong> · from ${r.from_address} · ${r.tenant} · <time datetime="${new Date(r.created_at).toISOString()}">${new Date(r.created_at).toISOString()}</time></p>
<pre>${r.text_body}</pre>
</article>`,
    );
    const page = { ...pageContext(ctx, undefined), url: undefined };
    sendPage(
      ctx,
      200,
      layout(
        page,
        'Dev mailbox',
        html`<h1>Dev mailbox</h1>
<p>The newest ${LIMIT} messages sent while no SMTP_URL is set (development only). Also as <a href="/dev/mailbox.json">JSON</a>.</p>
${rows.length ? items : html`<p>No messages yet.</p>`}`,
      ),
    );
  });

  return router;
}

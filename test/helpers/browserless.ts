// A user agent without a browser: a cookie jar, manual redirects and the
// plain HTML forms, to drive the sign-in the way a no-JavaScript browser would.
export interface Page {
  status: number;
  url: string;
  html: string;
  headers: Headers;
}

export class Agent {
  private cookies = new Map<string, { value: string; path: string; host: string }>();
  constructor(private headers: Record<string, string> = {}) {}

  private cookieHeader(url: URL): string {
    return [...this.cookies.entries()]
      .filter(([, c]) => c.host === url.host && (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : c.path + '/') || c.path === '/'))
      .map(([k, c]) => `${k.split('|')[0]}=${c.value}`)
      .join('; ');
  }

  private store(url: URL, res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const path = attrs.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const expired = attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a)) || attrs.some((a) => /max-age=0/i.test(a.trim()));
      const key = `${name}|${path}`;
      if (expired || value === '') this.cookies.delete(key);
      else this.cookies.set(key, { value, path, host: url.host });
    }
  }

  /** One request, no redirect following. */
  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Page> {
    const u = new URL(url);
    const headers: Record<string, string> = { ...this.headers, ...init.headers };
    const cookie = this.cookieHeader(u);
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(u, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    this.store(u, res);
    return { status: res.status, url: u.href, html: await res.text(), headers: res.headers };
  }

  /** Follows redirects until a page, or until a URL outside `origin` (returned unvisited). */
  async go(url: string, init: { form?: Record<string, string> } = {}, origin = new URL(url).origin): Promise<Page> {
    let page = await this.request(url, init);
    for (let i = 0; i < 20 && page.status >= 300 && page.status < 400; i++) {
      const next = new URL(page.headers.get('location')!, page.url).href;
      if (!next.startsWith(origin)) return { status: page.status, url: next, html: '', headers: page.headers };
      page = await this.request(next);
    }
    return page;
  }

  /** Submits the form whose submit button has this text (its hidden fields included). */
  async submit(page: Page, button: string, fields: Record<string, string> = {}, origin?: string): Promise<Page> {
    const forms = [...page.html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
    const form = forms.find((f) => f[2]!.includes(`>${button}</button>`));
    if (!form) throw new Error(`no form with a "${button}" button on ${page.url}:\n${page.html.slice(0, 3000)}`);
    const values: Record<string, string> = {};
    for (const m of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) values[m[1]!] = decode(m[2]!);
    const btn = new RegExp(`<button[^>]*name="([^"]+)"[^>]*value="([^"]+)"[^>]*>${button}</button>`).exec(form[2]!);
    if (btn) values[btn[1]!] = btn[2]!;
    const action = new URL(decode(form[1]!), page.url).href;
    return this.go(action, { form: { ...values, ...fields } }, origin);
  }
}

export function decode(s: string): string {
  return s.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'");
}

/** The visible text of a page, roughly. */
export function textOf(html: string): string {
  return decode(html.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
}

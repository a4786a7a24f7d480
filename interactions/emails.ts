// Owns the content of every email: subject, plain text and HTML (inline CSS,
// tables, for common mail clients), in the tenant's look and the user's language.
// A tenant may replace the bodies with its own templates ({{placeholders}}).
import fs from 'node:fs';
import path from 'node:path';
import type { Tenant } from '../src/tenants/index.js';
import { escapeHtml, html } from './html.js';
import { translator, type Locale } from './i18n.js';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export interface CodeEmailInput {
  tenant: Tenant;
  locale: Locale;
  code: string;
  expiresAt: Date;
  ttlSeconds: number;
  publicUrl: URL;
}

export function formatUntil(date: Date, locale: Locale, timeZone: string): string {
  return new Intl.DateTimeFormat(locale === 'nl' ? 'nl-NL' : 'en-GB', {
    day: 'numeric',
    month: 'long',
    hour: '2-digit',
    minute: '2-digit',
    timeZone,
    timeZoneName: 'short',
  }).format(date);
}

function fill(template: string, values: Record<string, string>, escape: boolean): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (m, key: string) => {
    if (!(key in values)) return m;
    return escape ? escapeHtml(values[key]!) : values[key]!;
  });
}

export function renderCodeEmail(input: CodeEmailInput): RenderedEmail {
  const { tenant, locale, code } = input;
  const t = translator(locale, tenant);
  const portal = tenant.name;
  const minutes = Math.round(input.ttlSeconds / 60);
  const until = formatUntil(input.expiresAt, locale, tenant.timeZone);
  const support = tenant.support.email ?? tenant.support.url ?? portal;
  const logoUrl = tenant.branding.logo ? new URL(`/${tenant.slug}/assets/${tenant.branding.logo}`, input.publicUrl).href : '';
  const values = {
    code,
    portal,
    minutes: String(minutes),
    until,
    support,
    logoUrl,
    primaryColor: tenant.branding.primaryColor,
    textColor: tenant.branding.textColor,
    heading: t('email.heading'),
    intro: t('email.intro', { portal }),
    validity: t('email.validity', { minutes, until }),
    ignore: t('email.ignore'),
    supportLine: t('email.support', { support }),
  };
  const subject = t('email.subject', { code, portal });

  const textTemplate = tenant.email.textTemplate ? fs.readFileSync(path.join(tenant.dir, tenant.email.textTemplate), 'utf8') : undefined;
  const text = textTemplate
    ? fill(textTemplate, values, false)
    : [portal, '', values.intro, '', `    ${code}`, '', values.validity, '', values.ignore, '', values.supportLine, ''].join('\n');

  const htmlTemplate = tenant.email.htmlTemplate ? fs.readFileSync(path.join(tenant.dir, tenant.email.htmlTemplate), 'utf8') : undefined;
  const body = htmlTemplate ? fill(htmlTemplate, values, true) : defaultHtml(values, locale).value;
  return { subject, text, html: body };
}

function defaultHtml(v: Record<string, string>, locale: Locale) {
  const font = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;";
  return html`<!doctype html>
<html lang="${locale}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${v.heading!}</title></head>
<body style="margin:0;padding:0;background:#f4f6fb;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f6fb;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:480px;background:#ffffff;border-radius:10px;border-top:6px solid ${v.primaryColor!};">
<tr><td style="padding:28px 28px 8px;${font}">
${v.logoUrl ? html`<img src="${v.logoUrl}" alt="${v.portal!}" height="40" style="display:block;height:40px;border:0;">` : html`<strong style="font-size:18px;color:${v.textColor!};">${v.portal!}</strong>`}
</td></tr>
<tr><td style="padding:8px 28px;${font}color:${v.textColor!};">
<h1 style="font-size:20px;margin:16px 0 8px;">${v.heading!}</h1>
<p style="margin:0 0 16px;font-size:15px;line-height:22px;">${v.intro!}</p>
<p style="margin:0 0 16px;font-size:32px;line-height:40px;font-weight:700;letter-spacing:6px;font-family:Menlo,Consolas,monospace;color:${v.textColor!};">${v.code!}</p>
<p style="margin:0 0 16px;font-size:15px;line-height:22px;">${v.validity!}</p>
<p style="margin:0 0 16px;font-size:13px;line-height:20px;color:#4a5468;">${v.ignore!}</p>
</td></tr>
<tr><td style="padding:16px 28px 28px;${font}font-size:13px;color:#4a5468;border-top:1px solid #e4e7ee;">${v.supportLine!}</td></tr>
</table>
</td></tr>
</table>
</body>
</html>`;
}

/** "From" with the tenant's display name and MAIL_FROM's address. */
export function fromAddress(mailFrom: string, tenant: Tenant): string {
  const address = /<([^>]+)>/.exec(mailFrom)?.[1] ?? mailFrom.trim();
  const name = (tenant.email.fromName ?? tenant.name).replace(/["\\\r\n]/g, '');
  return `"${name}" <${address}>`;
}

/** "Someone tried to sign in with this address, but it has no account" (policy unknownEmail: notify). */
export function renderNoAccountEmail(tenant: Tenant, locale: Locale): RenderedEmail {
  const t = translator(locale, tenant);
  const portal = tenant.name;
  const support = tenant.support.email ?? tenant.support.url ?? portal;
  const body = t('email.unknown.body', { portal, support });
  return {
    subject: t('email.unknown.subject', { portal }),
    text: `${portal}\n\n${body}\n`,
    html: html`<!doctype html><html lang="${locale}"><head><meta charset="utf-8"><title>${portal}</title></head>
<body style="font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:${tenant.branding.textColor};">
<p style="font-size:18px;font-weight:700;">${portal}</p><p style="font-size:15px;line-height:22px;">${body}</p></body></html>`.value,
  };
}

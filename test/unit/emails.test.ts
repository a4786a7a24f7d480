import fs from 'node:fs';
import path from 'node:path';
import { fromAddress, renderCodeEmail } from '../../interactions/emails.js';
import { negotiateLocale } from '../../interactions/i18n.js';
import { loadTenant } from '../../src/tenants/index.js';
import { tempDir, tenantsDir } from '../helpers/env.js';

const demo = loadTenant(path.join(tenantsDir, 'demo'));
const expiresAt = new Date('2026-05-04T10:30:00Z');
const base = { code: '493817', expiresAt, ttlSeconds: 1800, publicUrl: new URL('https://id.example.com') };

test('the code email names the code and the portal, says until when, and what to do if unasked', () => {
  const mail = renderCodeEmail({ tenant: demo, locale: 'en', ...base });
  expect(mail.subject).toBe('493817 is your verification code for Demo Portal');
  expect(mail.text).toContain('493817');
  // Europe/London is on summer time in May: 10:30 UTC is 11:30 BST.
  expect(mail.text).toContain('The code is valid for 30 minutes, until 4 May at 11:30 BST.');
  expect(mail.text).toContain('support@example.com');
  expect(mail.html).toContain('https://id.example.com/demo/assets/logo.svg');
  expect(mail.html).toContain('#2f5bea');
  expect(mail.html).toContain('<html lang="en">');
});

test('Dutch email with a Dutch date', () => {
  const mail = renderCodeEmail({ tenant: demo, locale: 'nl', ...base });
  expect(mail.subject).toBe('493817 is uw verificatiecode voor Demo Portal');
  expect(mail.text).toContain('tot 4 mei om 11:30 GMT+1');
});

test('a tenant can override the templates; values are escaped in HTML', () => {
  const dir = path.join(tempDir('otp-idp-tpl-'), 'brand');
  fs.cpSync(path.join(tenantsDir, 'demo'), dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'code.html'), '<p class="x">{{code}} for {{portal}} until {{until}}</p>');
  fs.writeFileSync(path.join(dir, 'code.txt'), 'Code {{code}} ({{minutes}} min)');
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'tenant.json'), 'utf8'));
  json.name = 'Brand <&> Co';
  json.email = { fromName: 'Brand', htmlTemplate: 'code.html', textTemplate: 'code.txt' };
  fs.writeFileSync(path.join(dir, 'tenant.json'), JSON.stringify(json));
  const tenant = loadTenant(dir);
  const mail = renderCodeEmail({ tenant, locale: 'en', ...base });
  expect(mail.html).toBe('<p class="x">493817 for Brand &lt;&amp;&gt; Co until 4 May at 11:30 BST</p>');
  expect(mail.text).toBe('Code 493817 (30 min)');
  expect(fromAddress('otp-idp <no-reply@id.example.com>', tenant)).toBe('"Brand" <no-reply@id.example.com>');
});

test('language negotiation: ui_locales, then Accept-Language, then the tenant default', () => {
  expect(negotiateLocale(demo, 'nl', 'en')).toBe('nl');
  expect(negotiateLocale(demo, 'fr de', 'nl-BE,en;q=0.5')).toBe('nl');
  expect(negotiateLocale(demo, undefined, 'fr, en;q=0.1')).toBe('en');
  expect(negotiateLocale(demo, undefined, 'de;q=1, nl;q=0')).toBe('en');
  expect(negotiateLocale(demo, undefined, undefined)).toBe('en');
});

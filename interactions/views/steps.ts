// The pages of the sign-in steps, in the order the user meets them:
// 1 email → 2 send → 3 code → 4 signed in (and consent for third-party clients).
// Plain HTML forms: everything works without JavaScript.
import { html, type SafeHtml } from '../html.js';
import type { MessageKey } from '../i18n.js';
import { layout, type PageContext } from './layout.js';

export interface Notice {
  kind: 'error' | 'info';
  text: string;
}

export interface FormContext extends PageContext {
  action: (step: string) => string;
  csrf: string;
}

const csrfField = (f: FormContext) => html`<input type="hidden" name="csrf" value="${f.csrf}">`;

function notice(n: Notice | undefined, id: string): SafeHtml | '' {
  if (!n) return '';
  return html`<div class="message ${n.kind}" id="${id}" role="${n.kind === 'error' ? 'alert' : 'status'}">${n.text}</div>`;
}

/** j•••@example.com: enough to recognise, not enough to harvest. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return email;
  return `${email.slice(0, 1)}•••${email.slice(at)}`;
}

/** Step 1: "Email address" + Sign in. */
export function emailPage(f: FormContext, opts: { email?: string; error?: Notice; info?: Notice }): string {
  const { t } = f;
  const describedBy = opts.error ? 'email-error' : undefined;
  return layout(
    f,
    t('page.email.title'),
    html`<h1>${t('page.email.title')}</h1>
${notice(opts.info, 'email-info')}
<p>${t('page.email.intro', { portal: f.tenant?.name ?? '' })}</p>
<form method="post" action="${f.action('email')}" novalidate>
${csrfField(f)}
<div class="field">
<label for="email">${t('field.email')}</label>
${notice(opts.error, 'email-error')}
<input id="email" name="email" type="email" autocomplete="username" inputmode="email" autocapitalize="none" spellcheck="false" required autofocus
 value="${opts.email ?? ''}"${describedBy ? html` aria-describedby="${describedBy}" aria-invalid="true"` : ''}>
</div>
<button type="submit">${t('button.signIn')}</button>
</form>`,
  );
}

/** Step 2: "We will send a verification code to j•••@example.com" + Send verification code. */
export function sendPage(f: FormContext, opts: { email: string; error?: Notice }): string {
  const { t } = f;
  return layout(
    f,
    t('page.send.title'),
    html`<h1>${t('page.send.title')}</h1>
${notice(opts.error, 'send-error')}
<p>${t('page.send.intro', { email: maskEmail(opts.email) })}</p>
<form method="post" action="${f.action('send')}">
${csrfField(f)}
<button type="submit" autofocus>${t('button.sendCode')}</button>
</form>
<p><a href="${f.action('') + '?change=1'}">${t('link.otherEmail')}</a></p>`,
  );
}

/** Step 3: "Verification code" + Verify code, with Send new code. */
export function codePage(
  f: FormContext,
  opts: { email: string; length: number; minutes: number; cooldownSeconds: number; error?: Notice; info?: Notice },
): string {
  const { t } = f;
  const describedBy = ['code-hint', opts.error ? 'code-error' : ''].filter(Boolean).join(' ');
  return layout(
    f,
    t('page.code.title'),
    html`<h1>${t('page.code.title')}</h1>
${notice(opts.info, 'code-info')}
<p>${t('page.code.intro', { email: maskEmail(opts.email), minutes: opts.minutes })}</p>
<form method="post" action="${f.action('verify')}" novalidate>
${csrfField(f)}
<div class="field">
<label for="code">${t('field.code')}</label>
<p class="hint" id="code-hint">${t('field.code.hint', { length: opts.length })}</p>
${notice(opts.error, 'code-error')}
<input id="code" name="code" class="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]*"
 maxlength="${opts.length + 4}" required autofocus aria-describedby="${describedBy}"${opts.error ? html` aria-invalid="true"` : ''}>
</div>
<button type="submit">${t('button.verifyCode')}</button>
</form>
<form method="post" action="${f.action('send')}" class="resend">
${csrfField(f)}
<input type="hidden" name="resend" value="1">
<button type="submit" class="secondary"${opts.cooldownSeconds > 0 ? html` data-cooldown="${opts.cooldownSeconds}"` : ''}>${t('button.sendNewCode')}</button>
<p class="hint" id="cooldown-status" aria-live="polite" data-template="${t('code.cooldown', { seconds: '{seconds}' })}"></p>
</form>
<p><a href="${f.action('') + '?change=1'}">${t('link.otherEmail')}</a></p>`,
  );
}

/** Step 4: "You are signed in" + Continue. */
export function signedInPage(f: FormContext, opts: { email: string }): string {
  const { t } = f;
  return layout(
    f,
    t('page.signedIn.title'),
    html`<h1>${t('page.signedIn.title')}</h1>
<p>${t('page.signedIn.intro', { email: opts.email })}</p>
<form method="post" action="${f.action('continue')}">
${csrfField(f)}
<button type="submit" autofocus>${t('button.continue')}</button>
</form>`,
  );
}

/** Consent, for clients marked third-party. */
export function consentPage(f: FormContext, opts: { clientName: string; scopes: string[] }): string {
  const { t } = f;
  const known = new Set(['openid', 'email', 'profile', 'offline_access']);
  return layout(
    f,
    t('page.consent.title'),
    html`<h1>${t('page.consent.title')}</h1>
<p>${t('page.consent.intro', { client: opts.clientName })}</p>
<p>${t('page.consent.scopes')}</p>
<ul>${opts.scopes.filter((s) => known.has(s)).map((s) => html`<li>${t(`scope.${s}` as MessageKey)}</li>`)}</ul>
<form method="post" action="${f.action('consent')}">
${csrfField(f)}
<div class="actions">
<button type="submit" name="decision" value="allow">${t('button.allow')}</button>
<button type="submit" name="decision" value="deny" class="secondary">${t('button.deny')}</button>
</div>
</form>`,
  );
}

// The interaction routes of every tenant, /<slug>/interaction/:uid/…, one thin
// handler per step. GET asks oidc-provider which prompt is pending and renders
// the step the sign-in has reached; each POST does one thing and redirects
// (or re-renders with a message). The rules live in src/auth.
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type InteractionResults } from 'oidc-provider';
import { normalizeEmail } from '../src/accounts/users.js';
import type { SignInState } from '../src/auth/sign-in-state.js';
import { findEndedSession } from '../src/db/adapter.js';
import { ACR_EMAIL_OTP } from '../src/oidc/provider.js';
import type { Services } from '../src/services.js';
import type { Tenant } from '../src/tenants/index.js';
import { fromAddress, renderCodeEmail, renderNoAccountEmail } from './emails.js';
import { pageContext, sendPage } from './render.js';
import { errorPage, expiredPage } from './views/pages.js';
import { codePage, consentPage, emailPage, sendPage as sendCodePage, signedInPage, type FormContext, type Notice } from './views/steps.js';

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

interface StepContext {
  ctx: Context;
  tenant: Tenant;
  provider: Provider;
  details: Details;
  form: FormContext;
  state: SignInState | undefined;
}

class CsrfError extends Error {}

const ENDED_COOKIE = 'otp_idp_session_ended';

/**
 * Runs after the provider's /auth sent the browser to sign in: when the session
 * the browser presented has expired (not one it signed out of: those are
 * deleted), remember why for the sign-in page that follows. oidc-provider
 * replaces the cookie, so this is the only moment the old session id is known.
 */
export async function noteEndedSession(ctx: Context, services: Services, tenant: Tenant, id: string): Promise<void> {
  const ended = await findEndedSession(services.db, services.clock, tenant.slug, id);
  if (!ended) return;
  const { absoluteTimeoutSeconds } = tenant.session;
  const reachedMax = ended.loginTs !== undefined && ended.expiredAt.getTime() / 1000 >= ended.loginTs + absoluteTimeoutSeconds - 1;
  ctx.cookies.set(ENDED_COOKIE, reachedMax ? 'max' : 'idle', {
    path: `/${tenant.slug}`, maxAge: 3600_000, signed: true, httpOnly: true, sameSite: 'lax', secure: ctx.secure,
  });
}

export function createInteractionRouter(services: Services) {
  const { providers, otp, signIns, outbox, users, secrets, config, log, metrics, audit } = services;
  const router = new Router({ prefix: '/:slug/interaction/:uid' });
  const body = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });

  const csrfFor = (tenant: Tenant, uid: string) => secrets.hmac('csrf', `${tenant.slug}:${uid}`);
  const field = (ctx: Context, name: string): string => {
    const v = (ctx.request.body as Record<string, unknown> | undefined)?.[name];
    return typeof v === 'string' ? v : '';
  };

  /** Loads the interaction, the page context and the sign-in state; checks CSRF on POST. */
  async function step(ctx: Context): Promise<StepContext> {
    const tenant = ctx.state.tenant as Tenant;
    const provider = await providers.get(tenant);
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid) throw new errors.SessionNotFound('interaction mismatch');
    const page = pageContext(ctx, tenant, details.params.ui_locales as string | undefined);
    const csrf = csrfFor(tenant, details.uid);
    if (ctx.method === 'POST' && !secrets.equal(field(ctx, 'csrf'), csrf)) throw new CsrfError();
    const base = `/${tenant.slug}/interaction/${details.uid}`;
    const form: FormContext = { ...page, csrf, action: (s) => (s ? `${base}/${s}` : base) };
    return { ctx, tenant, provider, details, form, state: await signIns.get(tenant.slug, details.uid) };
  }

  /** Counts the event and writes it to the audit trail. */
  async function track(s: StepContext, event: string, userId?: string | null, detail?: Record<string, string | number>) {
    metrics.signIn.inc({ tenant: s.tenant.slug, event });
    await audit.record({ tenant: s.tenant.slug, type: event, userId, ip: s.ctx.ip, detail: { client_id: String(s.details.params.client_id), ...detail } });
  }

  const redirect = (ctx: Context, url: string) => {
    ctx.status = 303;
    ctx.redirect(url);
  };

  async function finish(s: StepContext, result: InteractionResults) {
    const url = await s.provider.interactionResult(s.ctx.req, s.ctx.res, result, { mergeWithLastSubmission: false });
    redirect(s.ctx, url);
  }

  async function renderCurrent(s: StepContext, notices: { error?: Notice; info?: Notice } = {}, status = 200) {
    const { ctx, tenant, details, form, state } = s;
    if (details.prompt.name === 'consent') {
      const client = await s.provider.Client.find(details.params.client_id as string);
      const scopes = String(details.params.scope ?? '').split(' ').filter(Boolean);
      return sendPage(ctx, status, consentPage(form, { clientName: client?.clientName ?? String(details.params.client_id), scopes }));
    }
    if (state?.verifiedUserId && state.email) return sendPage(ctx, status, signedInPage(form, { email: state.email }));
    const change = ctx.query.change === '1';
    if (!change && state?.email && state.challengeId) {
      const challenge = await otp.current(tenant.slug, details.uid);
      if (challenge?.id === state.challengeId) {
        const cooldownSeconds = await otp.cooldownLeft(tenant.slug, state.emailNormalized!);
        const info = notices.info ?? redirectNotice(s, cooldownSeconds, 'info');
        const error = notices.error ?? redirectNotice(s, cooldownSeconds, 'error');
        return sendPage(
          ctx,
          status,
          codePage(form, {
            email: state.email,
            length: tenant.otp.length,
            minutes: Math.round(tenant.otp.ttlSeconds / 60),
            cooldownSeconds,
            ...(error ? { error } : {}),
            ...(info ? { info } : {}),
          }),
        );
      }
    }
    if (!change && state?.email) {
      const error = notices.error ?? (ctx.query.m === 'cooldown' ? redirectNotice(s, await otp.cooldownLeft(tenant.slug, state.emailNormalized!), 'error') : undefined);
      return sendPage(ctx, status, sendCodePage(form, { email: state.email, ...(error ? { error } : {}) }));
    }
    const hint = typeof details.params.login_hint === 'string' ? details.params.login_hint : undefined;
    const info = notices.info ?? (state ? undefined : await sessionEndedNotice(s));
    return sendPage(ctx, status, emailPage(form, { email: state?.email ?? hint ?? '', ...notices, ...(info ? { info } : {}) }));
  }

  /** The message a POST left for the page it redirected to (`?m=`). */
  function redirectNotice(s: StepContext, cooldownSeconds: number, kind: Notice['kind']): Notice | undefined {
    const { t } = s.form;
    const m = s.ctx.query.m;
    if (kind === 'info') return m === 'sent' ? { kind, text: t('msg.codeSent') } : undefined;
    if (m === 'cooldown') return { kind, text: t('msg.cooldown', { seconds: cooldownSeconds || 1 }) };
    if (m === 'limited') return { kind, text: t('msg.tooManyCodes', { minutes: Number(s.ctx.query.min) || 60 }) };
    return undefined;
  }

  /** "Why do I have to sign in again?": set by the probe at /auth, read once here. */
  async function sessionEndedNotice(s: StepContext): Promise<Notice | undefined> {
    const reason = s.ctx.cookies.get(ENDED_COOKIE, { signed: true });
    if (reason !== 'idle' && reason !== 'max') return undefined;
    s.ctx.cookies.set(ENDED_COOKIE, '', { path: `/${s.tenant.slug}`, maxAge: 0, signed: true, httpOnly: true, sameSite: 'lax', secure: s.ctx.secure });
    return { kind: 'info', text: s.form.t(reason === 'max' ? 'page.sessionEnded.max' : 'page.sessionEnded.idle') };
  }

  // One error boundary: expired interactions and stale forms become friendly pages.
  router.use(async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      const tenant = ctx.state.tenant as Tenant;
      if (err instanceof CsrfError) {
        const page = pageContext(ctx, tenant);
        return sendPage(ctx, 403, errorPage(page, { description: page.t('msg.csrf'), backUrl: `/${tenant.slug}/interaction/${ctx.params.uid}` }));
      }
      if (err instanceof errors.SessionNotFound || err instanceof errors.InvalidRequest) {
        const state = await signIns.get(tenant.slug, String(ctx.params.uid)).catch(() => undefined);
        const back = state?.clientId ? await portalHome(tenant, state.clientId) : undefined;
        return sendPage(ctx, 410, expiredPage(pageContext(ctx, tenant), back ?? {}));
      }
      throw err;
    }
  });

  async function portalHome(tenant: Tenant, clientId: string): Promise<{ backUrl: string; clientName: string } | undefined> {
    const client = await services.clients.show(tenant.slug, clientId);
    const uri = client?.postLogoutRedirectUris[0] ?? client?.redirectUris.find((u) => u.startsWith('https://'));
    if (!client || !uri) return undefined;
    return { backUrl: uri.startsWith('https://') ? new URL(uri).origin + '/' : uri, clientName: client.name };
  }

  // Fail closed: a user type that requires a second factor never signs in with the code alone
  // (second factors are not offered by this server yet).
  const needsSecondFactor = (tenant: Tenant, userType: string) => (tenant.userTypes[userType]?.mfa ?? 'totp') !== 'none';
  async function refuseWithoutSecondFactor(s: StepContext, userType: string) {
    log.warn({ tenant: s.tenant.slug, userType }, 'sign-in refused: user type requires a second factor');
    await track(s, 'refused', null, { reason: 'second_factor_required', user_type: userType });
    sendPage(s.ctx, 403, errorPage(s.form, { description: s.form.t('msg.mfaUnavailable') }));
  }

  router.get('/', async (ctx) => renderCurrent(await step(ctx)));

  // Step 1: the email address.
  router.post('/email', body, async (ctx) => {
    const s = await step(ctx);
    if (s.details.prompt.name !== 'login') return redirect(ctx, s.form.action(''));
    const input = field(ctx, 'email').trim();
    const email = normalizeEmail(input);
    if (!email) {
      return sendPage(ctx, 400, emailPage(s.form, { email: input, error: { kind: 'error', text: s.form.t('msg.emailInvalid') } }));
    }
    await signIns.setEmail(s.tenant.slug, s.details.uid, String(s.details.params.client_id), input, email);
    redirect(ctx, s.form.action(''));
  });

  // Step 2 (and "Send new code"): a code to that address.
  router.post('/send', body, async (ctx) => {
    const s = await step(ctx);
    const { tenant, details, state, form } = s;
    if (!state?.emailNormalized || state.verifiedUserId) return redirect(ctx, form.action(''));
    const result = await otp.sendCode({ tenant: tenant.slug, interactionUid: details.uid, email: state.emailNormalized, ip: ctx.ip, policy: tenant.otp });
    if (result.kind !== 'sent') await track(s, 'code_rate_limited', null, { reason: result.kind });
    if (result.kind === 'cooldown') return redirect(ctx, `${form.action('')}?m=cooldown`);
    if (result.kind === 'rate_limited') {
      if (!state.challengeId) {
        return sendPage(ctx, 429, sendCodePage(form, { email: state.email!, error: { kind: 'error', text: form.t('msg.tooManyCodes', { minutes: Math.ceil(result.retryAfterSeconds / 60) }) } }));
      }
      return redirect(ctx, `${form.action('')}?m=limited&min=${Math.ceil(result.retryAfterSeconds / 60)}`);
    }
    await track(s, 'code_sent', result.delivery?.userId ?? null);
    await signIns.setChallenge(tenant.slug, details.uid, result.challengeId);
    // Same work whether or not the address has an account: the message is always
    // rendered, and writing it (or its suppressed stand-in) is the last database
    // step, so the worker that wakes for a real message never delays this answer.
    const email = renderCodeEmail({
      tenant, locale: form.locale, code: result.delivery?.code ?? '0'.repeat(tenant.otp.length),
      expiresAt: result.expiresAt, ttlSeconds: tenant.otp.ttlSeconds, publicUrl: config.publicUrl,
    });
    const from = fromAddress(config.mailFrom, tenant);
    if (result.delivery) {
      await outbox.enqueue({ purpose: 'otp', tenant: tenant.slug, to: result.delivery.to, from, ...email });
      if (config.env === 'development' && !config.smtpUrl) {
        log.info({ tenant: tenant.slug, to: state.emailNormalized }, `dev mailbox: verification code ${result.delivery.code} (development only)`);
      }
    } else if (result.notice) {
      await outbox.enqueue({ purpose: 'no-account', tenant: tenant.slug, to: result.notice.to, from, ...renderNoAccountEmail(tenant, form.locale) });
    } else {
      await outbox.suppress('otp', tenant.slug);
    }
    redirect(ctx, field(ctx, 'resend') ? `${form.action('')}?m=sent` : form.action(''));
  });

  // Step 3: the code.
  router.post('/verify', body, async (ctx) => {
    const s = await step(ctx);
    const { tenant, details, state, form } = s;
    const { t } = form;
    if (!state?.challengeId) return redirect(ctx, form.action(''));
    const code = field(ctx, 'code').replace(/[\s-]/g, '');
    const error = (text: string): Notice => ({ kind: 'error', text });
    if (!new RegExp(`^[0-9]{${tenant.otp.length}}$`).test(code)) {
      return renderCurrent(s, { error: error(t('msg.codeFormat', { length: tenant.otp.length })) }, 400);
    }
    const result = await otp.verifyCode({ tenant: tenant.slug, interactionUid: details.uid, code, policy: tenant.otp });
    await track(s, result.kind === 'blocked' ? 'blocked' : `code_${result.kind}`, result.kind === 'verified' ? result.userId : null);
    switch (result.kind) {
      case 'verified': {
        const user = await users.findById(tenant.slug, result.userId);
        if (user && needsSecondFactor(tenant, user.userType)) return refuseWithoutSecondFactor(s, user.userType);
        await signIns.setVerified(tenant.slug, details.uid, result.userId);
        await users.recordSignIn(tenant.slug, result.userId);
        return redirect(ctx, form.action(''));
      }
      case 'wrong':
        return renderCurrent(s, { error: error(result.attemptsLeft === 1 ? t('msg.codeWrongLast') : t('msg.codeWrong', { left: result.attemptsLeft })) }, 400);
      case 'expired':
        return renderCurrent(s, { error: error(t('msg.codeExpired')) }, 400);
      case 'exhausted':
        return renderCurrent(s, { error: error(t('msg.codeExhausted')) }, 400);
      case 'blocked':
        return renderCurrent(s, { error: error(t('msg.tooManyFailures', { minutes: Math.ceil(result.retryAfterSeconds / 60) })) }, 429);
      case 'no_code':
        return renderCurrent(s, { error: error(t('msg.codeMissing')) }, 400);
    }
  });

  // Step 4: Continue, back to the portal.
  router.post('/continue', body, async (ctx) => {
    const s = await step(ctx);
    const { tenant, details, state } = s;
    if (!state?.verifiedUserId || !state.verifiedAt) return redirect(ctx, s.form.action(''));
    const user = await users.findById(tenant.slug, state.verifiedUserId);
    if (!user || user.status !== 'active') {
      await signIns.clear(tenant.slug, details.uid);
      return redirect(ctx, s.form.action(''));
    }
    if (needsSecondFactor(tenant, user.userType)) return refuseWithoutSecondFactor(s, user.userType);
    await signIns.clear(tenant.slug, details.uid);
    await track(s, 'signed_in', user.id);
    await finish(s, {
      login: { accountId: user.id, acr: ACR_EMAIL_OTP, amr: ['otp'], remember: true, ts: Math.floor(state.verifiedAt.getTime() / 1000) },
    });
  });

  // Consent for third-party clients.
  router.post('/consent', body, async (ctx) => {
    const s = await step(ctx);
    const { details, provider } = s;
    if (details.prompt.name !== 'consent') return redirect(ctx, s.form.action(''));
    if (field(ctx, 'decision') !== 'allow') {
      return finish(s, { error: 'access_denied', error_description: 'the user denied access' });
    }
    const grant = details.grantId
      ? (await provider.Grant.find(details.grantId))!
      : new provider.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id as string });
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await finish(s, { consent: { grantId } });
  });

  router.all('/*rest', async (ctx) => {
    sendPage(ctx, 404, errorPage(pageContext(ctx, ctx.state.tenant as Tenant), {}));
  });

  return router.routes();
}

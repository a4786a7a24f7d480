// Owns the one-time-code rules: how a code is made, stored, throttled, checked
// and used up. Pure domain: no HTTP, no oidc-provider. Every rule reads time
// from the injected clock and takes its limits from the tenant's OtpPolicy.
//
// - a code is `length` CSPRNG digits, valid `ttlSeconds` after it was requested;
// - only an HMAC-SHA256 of it is stored, under a server key, bound to its challenge id;
// - it is bound to the interaction that asked for it and superseded by the next one;
// - each check reserves one of `maxAttempts` tries atomically before comparing,
//   so parallel guesses can never exceed the limit, and a right code is used once;
// - every wrong code counts against a per-email failure budget that a new code
//   does not reset, with growing delays and a hard cap per day;
// - sends are throttled per email (cooldown, hourly cap) and per IP (hourly cap);
// - unknown and disabled emails walk the same path with the same database work,
//   but their code is never sent and can never match.
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { UserStore } from '../accounts/users.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/knex.js';
import type { Secrets } from '../secrets.js';
import type { OtpPolicy } from '../tenants/index.js';
import type { Counters } from './counters.js';

export interface SendCodeInput {
  tenant: string;
  interactionUid: string;
  email: string; // normalised
  ip: string;
  policy: OtpPolicy;
}

export type SendCodeResult =
  | {
      kind: 'sent';
      challengeId: string;
      expiresAt: Date;
      /** Present only when a message must go out: the account exists and is active. */
      delivery?: { code: string; userId: string; to: string };
      /** No account for this address and the tenant wants it told so (policy unknownEmail: notify). */
      notice?: { to: string };
    }
  | { kind: 'cooldown'; retryAfterSeconds: number }
  | { kind: 'rate_limited'; retryAfterSeconds: number };

export type VerifyCodeResult =
  | { kind: 'verified'; userId: string; email: string }
  | { kind: 'wrong'; attemptsLeft: number }
  | { kind: 'expired' }
  | { kind: 'exhausted' }
  | { kind: 'no_code' }
  | { kind: 'blocked'; retryAfterSeconds: number };

export interface ChallengeView {
  id: string;
  email: string;
  status: 'pending' | 'verified' | 'superseded' | 'exhausted';
  attempts: number;
  maxAttempts: number;
  createdAt: Date;
  expiresAt: Date;
}

interface ChallengeRow {
  id: string;
  tenant: string;
  interaction_uid: string;
  email_normalized: string;
  user_id: string | null;
  code_hmac: string | null;
  attempts: number;
  max_attempts: number;
  status: ChallengeView['status'];
  created_at: Date;
  expires_at: Date;
}

const HOUR = 3600;
const DAY = 86400;
/** Sends per IP per hour, as a multiple of the per-email cap. */
const IP_CAP_FACTOR = 5;

/** Seconds to wait after the n-th failure for one email (no wait for the first 10). */
export function failureDelaySeconds(failures: number): number {
  if (failures < 10) return 0;
  return Math.min(900, 5 * 2 ** Math.floor((failures - 10) / 5));
}

export function generateCode(length: number): string {
  return String(randomInt(0, 10 ** length)).padStart(length, '0');
}

const secondsUntil = (until: Date, now: Date) => Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));

export function createOtpService(deps: { db: Db; clock: Clock; secrets: Secrets; users: UserStore; counters: Counters }) {
  const { db, clock, secrets, users, counters } = deps;
  const hashCode = (challengeId: string, code: string) => secrets.hmac('otp', `${challengeId}:${code}`);
  const keys = {
    cooldown: (t: string, e: string) => `otp:cooldown:${t}:${e}`,
    hourly: (t: string, e: string) => `otp:sends:${t}:${e}`,
    ip: (t: string, ip: string) => `otp:ip:${t}:${ip}`,
    failures: (t: string, e: string) => `otp:failures:${t}:${e}`,
  };

  async function latestChallenge(tenant: string, interactionUid: string): Promise<ChallengeRow | undefined> {
    return db<ChallengeRow>('otp_challenges')
      .where({ tenant, interaction_uid: interactionUid })
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .first();
  }

  return {
    /** "Send verification code" / "Send new code". */
    async sendCode(input: SendCodeInput): Promise<SendCodeResult> {
      const { tenant, interactionUid, email, ip, policy } = input;
      const now = clock.now();

      const cooldown = await counters.claim(keys.cooldown(tenant, email), policy.resendCooldownSeconds, now);
      if (!cooldown.ok) return { kind: 'cooldown', retryAfterSeconds: secondsUntil(cooldown.until, now) };
      const perEmail = await counters.hit(keys.hourly(tenant, email), HOUR, now);
      if (perEmail.count > policy.maxSendsPerHour) return { kind: 'rate_limited', retryAfterSeconds: secondsUntil(perEmail.expiresAt, now) };
      const perIp = await counters.hit(keys.ip(tenant, ip), HOUR, now);
      if (perIp.count > policy.maxSendsPerHour * IP_CAP_FACTOR) return { kind: 'rate_limited', retryAfterSeconds: secondsUntil(perIp.expiresAt, now) };

      const user = await users.findByEmail(tenant, email);
      const deliverable = user?.status === 'active';
      const challengeId = randomBytes(16).toString('base64url');
      // Unknown emails get a code nobody will ever see: same work, never a match.
      const code = generateCode(policy.length);
      const expiresAt = new Date(now.getTime() + policy.ttlSeconds * 1000);
      await db.transaction(async (trx) => {
        await trx('otp_challenges')
          .where({ tenant, interaction_uid: interactionUid, status: 'pending' })
          .update({ status: 'superseded', finished_at: now });
        await trx('otp_challenges').insert({
          id: challengeId,
          tenant,
          interaction_uid: interactionUid,
          email_normalized: email,
          user_id: deliverable ? user.id : null,
          // Digits only ever match digits: an undeliverable challenge can never be answered.
          code_hmac: hashCode(challengeId, deliverable ? code : `${code}x`),
          attempts: 0,
          max_attempts: policy.maxAttempts,
          status: 'pending',
          created_at: now,
          expires_at: expiresAt,
        });
      });
      if (deliverable) return { kind: 'sent', challengeId, expiresAt, delivery: { code, userId: user.id, to: user.email } };
      if (!user && policy.unknownEmail === 'notify') return { kind: 'sent', challengeId, expiresAt, notice: { to: email } };
      return { kind: 'sent', challengeId, expiresAt };
    },

    /** "Verify code": checks `code` against the interaction's current challenge. */
    async verifyCode(input: { tenant: string; interactionUid: string; code: string; policy: OtpPolicy }): Promise<VerifyCodeResult> {
      const { tenant, interactionUid, policy } = input;
      const now = clock.now();
      const current = await latestChallenge(tenant, interactionUid);
      if (!current || current.status === 'superseded') return { kind: 'no_code' };
      if (current.status === 'verified') return { kind: 'no_code' };
      if (current.status === 'exhausted') return { kind: 'exhausted' };
      if (current.expires_at.getTime() <= now.getTime()) return { kind: 'expired' };

      const failureKey = keys.failures(tenant, current.email_normalized);
      const failures = await counters.get(failureKey, now);
      if (failures && failures.count >= policy.maxFailuresPerEmail) return { kind: 'blocked', retryAfterSeconds: secondsUntil(failures.expiresAt, now) };
      if (failures?.blockedUntil && failures.blockedUntil > now) return { kind: 'blocked', retryAfterSeconds: secondsUntil(failures.blockedUntil, now) };

      // Reserve one try before comparing: parallel requests cannot exceed maxAttempts.
      const reserved = await db<ChallengeRow>('otp_challenges')
        .where({ id: current.id, status: 'pending' })
        .andWhere('attempts', '<', db.ref('max_attempts'))
        .andWhere('expires_at', '>', now)
        .increment('attempts', 1)
        .returning(['attempts', 'max_attempts', 'code_hmac', 'user_id']);
      const row = reserved[0] as Pick<ChallengeRow, 'attempts' | 'max_attempts' | 'code_hmac' | 'user_id'> | undefined;
      if (!row) {
        const again = await db<ChallengeRow>('otp_challenges').where({ id: current.id }).first();
        if (again?.status === 'pending' && again.attempts >= again.max_attempts) return { kind: 'exhausted' };
        if (again && again.expires_at.getTime() <= now.getTime()) return { kind: 'expired' };
        return again?.status === 'exhausted' ? { kind: 'exhausted' } : { kind: 'no_code' };
      }

      const submitted = input.code.replace(/[\s-]/g, '');
      const expected = Buffer.from(row.code_hmac ?? '');
      const actual = Buffer.from(hashCode(current.id, submitted));
      const match = expected.length === actual.length && timingSafeEqual(expected, actual) && row.user_id !== null;

      if (match) {
        // Single use: of two parallel right answers exactly one flips pending → verified.
        const won = await db('otp_challenges')
          .where({ id: current.id, status: 'pending' })
          .update({ status: 'verified', finished_at: now, code_hmac: null });
        if (won !== 1) return { kind: 'no_code' };
        await counters.reset(failureKey);
        return { kind: 'verified', userId: row.user_id!, email: current.email_normalized };
      }

      const failed = await counters.hit(failureKey, DAY, now);
      const delay = failureDelaySeconds(failed.count);
      if (delay > 0) await counters.block(failureKey, new Date(now.getTime() + delay * 1000));
      const left = row.max_attempts - row.attempts;
      if (left <= 0) {
        await db('otp_challenges').where({ id: current.id, status: 'pending' }).update({ status: 'exhausted', finished_at: now, code_hmac: null });
        return { kind: 'exhausted' };
      }
      if (failed.count >= policy.maxFailuresPerEmail) return { kind: 'blocked', retryAfterSeconds: secondsUntil(failed.expiresAt, now) };
      return { kind: 'wrong', attemptsLeft: left };
    },

    /** The interaction's current challenge, for rendering the code page. */
    async current(tenant: string, interactionUid: string): Promise<ChallengeView | undefined> {
      const row = await latestChallenge(tenant, interactionUid);
      if (!row) return undefined;
      return {
        id: row.id,
        email: row.email_normalized,
        status: row.status,
        attempts: row.attempts,
        maxAttempts: row.max_attempts,
        createdAt: row.created_at,
        expiresAt: row.expires_at,
      };
    },

    /** Seconds until "Send new code" is allowed for this email (0 when it is). */
    async cooldownLeft(tenant: string, email: string): Promise<number> {
      const now = clock.now();
      const state = await counters.get(keys.cooldown(tenant, email), now);
      return state ? secondsUntil(state.expiresAt, now) : 0;
    },
  };
}

export type OtpService = ReturnType<typeof createOtpService>;

// Every one-time-code rule, on the engine under test, with a clock the test
// moves: expiry, attempts, supersede, interaction binding, cooldown, hourly
// caps, the per-email failure budget, the parallel-verify race, unknown emails.
import { createUserStore } from '../../src/accounts/users.js';
import { createCounters } from '../../src/auth/counters.js';
import { createOtpService, failureDelaySeconds, generateCode, type OtpService } from '../../src/auth/otp.js';
import { ManualClock } from '../../src/clock.js';
import { createDb, type Db } from '../../src/db/knex.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { createSecrets } from '../../src/secrets.js';
import { otpPolicySchema } from '../../src/tenants/index.js';
import { createTestEnv, databaseOf, type TestEnv } from '../helpers/env.js';

let env: TestEnv;
let db: Db;
let otp: OtpService;
const clock = new ManualClock(new Date('2026-03-02T08:00:00Z'));
const policy = otpPolicySchema.parse({});
let n = 0;

beforeAll(async () => {
  env = await createTestEnv();
  const database = databaseOf(env);
  db = createDb(database);
  await migrateLatest(db, database);
  const users = createUserStore(db, clock);
  otp = createOtpService({ db, clock, secrets: createSecrets('k'.repeat(40)), users, counters: createCounters(db) });
  for (const name of ['expiry', 'tries', 'supersede', 'bind', 'cool', 'hourly', 'budget', 'race', 'known', 'ip1', 'ip2', 'disabled']) {
    await users.add({ tenant: 'demo', email: `${name}@example.com` });
  }
  await users.setStatus('demo', 'disabled@example.com', 'disabled');
});

afterAll(async () => {
  await db?.destroy();
  await env?.cleanup();
});

/** A fresh interaction asking for a code for `email`. */
async function send(email: string, opts: { uid?: string; ip?: string } = {}) {
  const uid = opts.uid ?? `uid-${++n}`;
  const result = await otp.sendCode({ tenant: 'demo', interactionUid: uid, email, ip: opts.ip ?? `10.0.0.${n % 250}`, policy });
  return { uid, result, code: result.kind === 'sent' ? result.delivery?.code : undefined };
}

const verify = (uid: string, code: string) => otp.verifyCode({ tenant: 'demo', interactionUid: uid, code, policy });
const wrongCode = (code: string) => String((Number(code) + 1) % 1e6).padStart(6, '0');

test('codes are 6 CSPRNG digits by default, length follows the policy', () => {
  const codes = new Set(Array.from({ length: 200 }, () => generateCode(6)));
  expect([...codes].every((c) => /^\d{6}$/.test(c))).toBe(true);
  expect(codes.size).toBeGreaterThan(190);
  expect(generateCode(8)).toMatch(/^\d{8}$/);
});

test('only an HMAC of the code is stored', async () => {
  const { code, result } = await send('known@example.com');
  const row = await db('otp_challenges').where({ id: result.kind === 'sent' ? result.challengeId : '' }).first();
  expect(row.code_hmac).toBeTruthy();
  expect(JSON.stringify(row)).not.toContain(code);
});

test('a code is valid for 30 minutes after it was requested, not a second longer', async () => {
  const a = await send('expiry@example.com');
  clock.advance(30 * 60 - 1);
  expect((await verify(a.uid, a.code!)).kind).toBe('verified');

  clock.advance(60); // past the cooldown
  const b = await send('expiry@example.com');
  clock.advance(30 * 60);
  expect(await verify(b.uid, b.code!)).toEqual({ kind: 'expired' });
});

test('a right code works once', async () => {
  clock.advance(3600);
  const a = await send('known@example.com');
  expect((await verify(a.uid, a.code!)).kind).toBe('verified');
  expect((await verify(a.uid, a.code!)).kind).toBe('no_code');
});

test('at most 5 wrong tries per code, then even the right code is dead', async () => {
  const a = await send('tries@example.com');
  const lefts = [];
  for (let i = 0; i < 4; i++) {
    const r = await verify(a.uid, wrongCode(a.code!));
    lefts.push(r.kind === 'wrong' ? r.attemptsLeft : r.kind);
  }
  expect(lefts).toEqual([4, 3, 2, 1]);
  expect(await verify(a.uid, wrongCode(a.code!))).toEqual({ kind: 'exhausted' });
  expect(await verify(a.uid, a.code!)).toEqual({ kind: 'exhausted' });
});

test('a new code supersedes the previous one of the same interaction', async () => {
  const first = await send('supersede@example.com');
  clock.advance(policy.resendCooldownSeconds);
  const second = await send('supersede@example.com', { uid: first.uid });
  expect(second.code).not.toBeUndefined();
  if (first.code !== second.code) expect((await verify(first.uid, first.code!)).kind).toBe('wrong');
  expect((await verify(first.uid, second.code!)).kind).toBe('verified');
});

test('a code works only in the interaction that asked for it', async () => {
  const mine = await send('bind@example.com');
  expect((await verify('someone-elses-interaction', mine.code!)).kind).toBe('no_code');
  expect((await verify(mine.uid, mine.code!)).kind).toBe('verified');
});

test('"Send new code" waits for the cooldown, enforced by the server', async () => {
  const a = await send('cool@example.com');
  expect(a.result.kind).toBe('sent');
  clock.advance(policy.resendCooldownSeconds - 5);
  const early = await send('cool@example.com', { uid: a.uid });
  expect(early.result).toEqual({ kind: 'cooldown', retryAfterSeconds: 5 });
  expect(await otp.cooldownLeft('demo', 'cool@example.com')).toBe(5);
  clock.advance(5);
  expect((await send('cool@example.com', { uid: a.uid })).result.kind).toBe('sent');
});

test('at most maxSendsPerHour codes per email per hour', async () => {
  const results = [];
  for (let i = 0; i < policy.maxSendsPerHour + 1; i++) {
    results.push((await send('hourly@example.com')).result.kind);
    clock.advance(policy.resendCooldownSeconds);
  }
  expect(results.slice(0, policy.maxSendsPerHour).every((k) => k === 'sent')).toBe(true);
  expect(results.at(-1)).toBe('rate_limited');
  clock.advance(3600);
  expect((await send('hourly@example.com')).result.kind).toBe('sent');
});

test('sends are capped per IP across emails', async () => {
  clock.advance(3600);
  const ip = '192.0.2.77';
  const kinds = [];
  for (let i = 0; i < policy.maxSendsPerHour * 5 + 1; i++) {
    kinds.push((await otp.sendCode({ tenant: 'demo', interactionUid: `ip-${i}`, email: `spray-${i}@example.com`, ip, policy })).kind);
  }
  expect(kinds.filter((k) => k === 'sent')).toHaveLength(policy.maxSendsPerHour * 5);
  expect(kinds.at(-1)).toBe('rate_limited');
});

test('the per-email failure budget spans codes, grows delays and is not reset by a new code', async () => {
  expect([9, 10, 15, 20, 60].map(failureDelaySeconds)).toEqual([0, 5, 10, 20, 900]);
  let failures = 0;
  let blocked: { kind: string; retryAfterSeconds?: number };
  clock.advance(3600);
  // Wrong codes across many codes (4 per code, so no code is ever exhausted).
  const fresh = await send('budget@example.com');
  expect(fresh.result.kind).toBe('sent');
  while (failures < 10) {
    clock.advance(policy.resendCooldownSeconds);
    const a = await send('budget@example.com');
    for (let i = 0; i < 4 && failures < 10; i++, failures++) await verify(a.uid, wrongCode(a.code!));
  }
  blocked = await verify(fresh.uid, fresh.code!);
  // The 10th failure started a delay that holds for every code of this email...
  expect(blocked.kind).toBe('blocked');
  clock.advance(blocked.retryAfterSeconds!);
  // ...and once it passes, the right code works and the budget resets.
  expect((await verify(fresh.uid, fresh.code!)).kind).toBe('verified');

  // The hard cap: maxFailuresPerEmail wrong codes in a day blocks every code of that email.
  await db('counters').where('key', 'otp:failures:demo:budget@example.com').delete();
  await db('counters').insert({
    key: 'otp:failures:demo:budget@example.com',
    count: policy.maxFailuresPerEmail,
    window_started_at: clock.now(),
    expires_at: new Date(clock.now().getTime() + 86400_000),
  });
  clock.advance(3600);
  const capped = await send('budget@example.com');
  const r = await verify(capped.uid, capped.code!);
  expect(r.kind).toBe('blocked');
});

test('two parallel verifies of one right code: exactly one wins', async () => {
  for (let round = 0; round < 5; round++) {
    clock.advance(policy.resendCooldownSeconds);
    const a = await send('race@example.com');
    const results = await Promise.all(Array.from({ length: 4 }, () => verify(a.uid, a.code!)));
    expect(results.filter((r) => r.kind === 'verified')).toHaveLength(1);
  }
});

test('parallel wrong guesses never get more than 5 tries', async () => {
  clock.advance(3600);
  const a = await send('tries@example.com');
  const guesses = Array.from({ length: 12 }, (_, i) => String((Number(a.code) + 1 + i) % 1e6).padStart(6, '0'));
  const results = await Promise.all(guesses.map((g) => verify(a.uid, g)));
  const evaluated = results.filter((r) => r.kind === 'wrong' || r.kind === 'verified').length;
  expect(evaluated).toBeLessThanOrEqual(4);
  const row = await db('otp_challenges').where({ interaction_uid: a.uid }).first();
  expect(row.attempts).toBeLessThanOrEqual(policy.maxAttempts);
  expect((await verify(a.uid, a.code!)).kind).toBe('exhausted');
});

test('unknown and disabled emails get the same answers, and no code to deliver', async () => {
  clock.advance(3600);
  const known = await send('known@example.com');
  const unknown = await send('stranger@example.com');
  const disabled = await send('disabled@example.com');
  expect(known.result.kind).toBe('sent');
  expect(unknown.result.kind).toBe('sent');
  expect(disabled.result.kind).toBe('sent');
  expect(known.code).toMatch(/^\d{6}$/);
  expect(unknown.code).toBeUndefined();
  expect(disabled.code).toBeUndefined();
  // The same wrong-code answers, and the unknown challenge can never match.
  expect(await verify(unknown.uid, '123456')).toEqual(await verify(known.uid, wrongCode(known.code!)));
  for (let i = 0; i < 3; i++) expect((await verify(unknown.uid, String(i).padStart(6, '0'))).kind).toBe('wrong');
  expect((await send('stranger@example.com', { uid: unknown.uid })).result).toEqual({ kind: 'cooldown', retryAfterSeconds: policy.resendCooldownSeconds });
});

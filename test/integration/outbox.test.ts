// Contract of the mail module on the engine under test (PGlite or Postgres),
// against a real SMTP server (smtp-server) on 127.0.0.1: delivery, scrubbing of
// sent rows, retry with backoff when SMTP is down, no double sends between
// concurrent workers, giving up after maxAttempts, suppression, the dev mailbox
// transport and its routes.
import http from 'node:http';
import net from 'node:net';
import { Writable } from 'node:stream';
import Koa from 'koa';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { ManualClock } from '../../src/clock.js';
import { createDb, type Db } from '../../src/db/knex.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { createLogger, type Logger } from '../../src/log.js';
import {
  createDevMailboxTransport,
  createOutbox,
  createSmtpTransport,
  createTransport,
  DEFAULT_MAIL_FROM,
  purgeSent,
  type MailTransport,
  type OutboxOptions,
} from '../../src/mail/index.js';
import type { Services } from '../../src/services.js';
import { createDevRoutes } from '../../interactions/dev.js';
import { createTestEnv, databaseOf, engine, type TestEnv } from '../helpers/env.js';

interface Received {
  rcptTo: string[];
  mailFrom: string;
  subject: string;
  raw: string;
}

interface TestSmtp {
  port: number;
  received: Received[];
  close(): Promise<void>;
}

function headerOf(raw: string, name: string): string {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const line = unfolded.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line ? line.slice(name.length + 1).trim() : '';
}

async function startSmtp(port = 0, extra: Partial<SMTPServerOptions> = {}, delayMs = 0): Promise<TestSmtp> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 200,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        setTimeout(() => {
          received.push({
            rcptTo: session.envelope.rcptTo.map((a) => a.address),
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            subject: headerOf(raw, 'subject'),
            raw,
          });
          cb();
        }, delayMs);
      });
    },
    ...extra,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.server.address() as net.AddressInfo;
  return {
    port: address.port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port on which nothing listens (for "SMTP is down"). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

let env: TestEnv;
let db: Db;
let smtp: TestSmtp;
const clock = new ManualClock(new Date('2026-06-01T12:00:00Z'));
const logLines: string[] = [];
const log: Logger = createLogger(
  { logLevel: 'debug', production: true },
  new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  }),
);
const transports: MailTransport[] = [];

function smtpTransport(port: number): MailTransport {
  const t = createSmtpTransport(`smtp://127.0.0.1:${port}`, { timeoutMs: 3000 });
  transports.push(t);
  return t;
}

function outboxFor(transport: MailTransport, options: OutboxOptions = {}, database: Db = db) {
  return createOutbox({ db: database, clock, log, transport, options });
}

let seq = 0;
function message(over: Partial<{ to: string; subject: string; text: string; html: string; tenant: string; purpose: string }> = {}) {
  seq++;
  const code = String(100000 + seq * 7919).slice(0, 6);
  return {
    from: DEFAULT_MAIL_FROM,
    to: `user${seq}@example.test`,
    subject: `Your sign-in code is ${code}`,
    text: `Enter ${code} to sign in.`,
    html: `<p>Enter <b>${code}</b> to sign in.</p>`,
    tenant: 'demo',
    purpose: 'otp',
    code,
    ...over,
  };
}

const rows = () => db('mail_outbox').select('*').orderBy('id');

beforeAll(async () => {
  env = await createTestEnv();
  const database = databaseOf(env);
  db = createDb(database);
  await migrateLatest(db, database);
  smtp = await startSmtp();
});

beforeEach(async () => {
  await db('mail_outbox').delete();
  await db('dev_mailbox').delete();
  smtp.received.length = 0;
  logLines.length = 0;
});

afterAll(async () => {
  for (const t of transports) await t.close?.();
  await smtp?.close();
  await db?.destroy();
  await env?.cleanup();
});

test('enqueue stores a pending row; deliverDue sends it over SMTP and scrubs the row', async () => {
  const outbox = outboxFor(smtpTransport(smtp.port));
  const m = message({ to: 'Alice@Example.test' });
  await outbox.enqueue(m);
  expect(smtp.received).toHaveLength(0); // no worker started: enqueue does not send
  const [queued] = await rows();
  expect(queued).toMatchObject({ status: 'pending', attempts: 0, to_address: 'Alice@Example.test', subject: m.subject, purpose: 'otp', tenant: 'demo' });
  expect(new Date(queued.next_attempt_at).getTime()).toBe(clock.now().getTime());
  expect(await outbox.pending()).toBe(1);

  expect(await outbox.deliverDue()).toBe(1);
  expect(smtp.received).toHaveLength(1);
  const got = smtp.received[0]!;
  expect(got.rcptTo.map((a) => a.toLowerCase())).toEqual(['alice@example.test']);
  expect(got.mailFrom).toBe('no-reply@localhost');
  expect(got.subject).toBe(m.subject);
  expect(got.raw).toContain(`Enter ${m.code} to sign in.`);
  expect(got.raw).toContain('text/html');
  expect(headerOf(got.raw, 'auto-submitted')).toBe('auto-generated');

  const [sent] = await rows();
  expect(sent).toMatchObject({ status: 'sent', attempts: 1, subject: null, text_body: null, html_body: null, locked_until: null, last_error: null });
  expect(new Date(sent.sent_at).getTime()).toBe(clock.now().getTime());
  expect(JSON.stringify(sent)).not.toContain(m.code);
  expect(await outbox.pending()).toBe(0);

  // Nothing left: a second run sends nothing more.
  expect(await outbox.deliverDue()).toBe(0);
  expect(smtp.received).toHaveLength(1);
});

test('each message keeps its own sender; the configured one is the fallback', async () => {
  const outbox = outboxFor(smtpTransport(smtp.port), { from: (tenant) => `${tenant} <login@example.test>` });
  await outbox.enqueue({ ...message({ tenant: 'acme' }), from: 'Acme IT <it@example.test>' });
  await outbox.enqueue({ ...message({ tenant: 'acme' }), from: '' });
  expect(await outbox.deliverDue()).toBe(2);
  const froms = smtp.received.map((r) => headerOf(r.raw, 'from')).sort();
  expect(froms).toEqual(['Acme IT <it@example.test>', 'acme <login@example.test>']);
});

test('SMTP down: the row stays pending with a backoff; once SMTP is up it is delivered exactly once', async () => {
  const port = await freePort();
  const outbox = outboxFor(smtpTransport(port));
  const m = message();
  await outbox.enqueue(m);

  expect(await outbox.deliverDue()).toBe(0);
  let [row] = await rows();
  expect(row.status).toBe('pending');
  expect(row.attempts).toBe(1);
  expect(row.locked_until).toBeNull();
  expect(row.subject).toBe(m.subject); // kept for the retry
  expect(row.last_error).toMatch(/ECONNREFUSED|ECONNECTION/);
  expect(row.last_error).not.toContain(m.code);
  const delay1 = new Date(row.next_attempt_at).getTime() - clock.now().getTime();
  expect(delay1).toBeGreaterThanOrEqual(2000);
  expect(delay1).toBeLessThanOrEqual(2200);

  // Not due yet: nothing is attempted.
  expect(await outbox.deliverDue()).toBe(0);
  expect((await rows())[0].attempts).toBe(1);

  // Second failure doubles the backoff.
  clock.advance(3);
  expect(await outbox.deliverDue()).toBe(0);
  [row] = await rows();
  expect(row.attempts).toBe(2);
  const delay2 = new Date(row.next_attempt_at).getTime() - clock.now().getTime();
  expect(delay2).toBeGreaterThanOrEqual(4000);
  expect(delay2).toBeLessThanOrEqual(4400);

  // The server comes up on that port; before the backoff has passed nothing is sent.
  const late = await startSmtp(port);
  try {
    expect(await outbox.deliverDue()).toBe(0);
    expect(late.received).toHaveLength(0);
    clock.advance(5);
    expect(await outbox.deliverDue()).toBe(1);
    expect(await outbox.deliverDue()).toBe(0);
    clock.advance(600);
    expect(await outbox.deliverDue()).toBe(0);
    expect(late.received).toHaveLength(1);
    expect(late.received[0]!.rcptTo).toEqual([m.to]);
    expect(late.received[0]!.subject).toBe(m.subject);
    [row] = await rows();
    expect(row).toMatchObject({ status: 'sent', attempts: 3, subject: null, text_body: null, html_body: null });
  } finally {
    for (const t of transports.splice(0)) await t.close?.();
    await late.close();
  }
  // Failures were logged at warn, without the code or the subject.
  const warnings = logLines.filter((l) => l.includes('mail delivery failed'));
  expect(warnings.length).toBe(2);
  expect(JSON.parse(warnings[0]!).level).toBe(40);
  expect(logLines.join('\n')).not.toContain(m.code);
});

test('two concurrent deliverDue calls never send the same row twice', async () => {
  // A second database handle on Postgres stands in for a second instance; the
  // embedded engine is single-process, so both workers share its one connection.
  const other = engine === 'postgres' ? createDb(databaseOf(env)) : db;
  const slow = await startSmtp(0, {}, 15);
  try {
    const a = outboxFor(smtpTransport(slow.port), { batchSize: 4, concurrency: 2 });
    const b = outboxFor(smtpTransport(slow.port), { batchSize: 4, concurrency: 2 }, other);
    const count = 30;
    const subjects = new Set<string>();
    for (let i = 0; i < count; i++) {
      const m = message();
      subjects.add(m.subject);
      await a.enqueue(m);
    }
    const [sentA, sentB, sentA2] = await Promise.all([a.deliverDue(), b.deliverDue(), a.deliverDue()]);
    expect(sentA + sentB + sentA2).toBe(count);
    expect(slow.received).toHaveLength(count);
    expect(new Set(slow.received.map((r) => r.subject))).toEqual(subjects);
    const all = await rows();
    expect(all.every((r) => r.status === 'sent' && r.attempts === 1)).toBe(true);
    if (engine === 'postgres') expect(Math.min(sentA + sentA2, sentB)).toBeGreaterThan(0); // both really worked
  } finally {
    for (const t of transports.splice(0)) await t.close?.();
    await slow.close();
    if (other !== db) await other.destroy();
  }
});

test('a claimed row is not claimed again while its lease lasts, and is after it expires', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const sentTo: string[] = [];
  const hanging: MailTransport = {
    kind: 'smtp',
    async send(m) {
      await gate;
      sentTo.push(m.to);
    },
  };
  const a = outboxFor(hanging, { lockSeconds: 60, sendTimeoutMs: 30_000 });
  const b = outboxFor(smtpTransport(smtp.port));
  await a.enqueue(message());
  const inFlight = a.deliverDue();
  // Wait until a has claimed the row.
  for (let i = 0; i < 100 && !(await rows())[0]?.locked_until; i++) await new Promise((r) => setTimeout(r, 10));
  expect((await rows())[0].locked_until).not.toBeNull();
  expect(await b.deliverDue()).toBe(0);
  clock.advance(59);
  expect(await b.deliverDue()).toBe(0);
  expect(smtp.received).toHaveLength(0);
  // The lease ran out (a hung for over 60s): another worker takes the row over.
  clock.advance(2);
  expect(await b.deliverDue()).toBe(1);
  expect(smtp.received).toHaveLength(1);
  expect((await rows())[0]).toMatchObject({ status: 'sent', attempts: 1 });
  // a finishes late: it no longer owns the row and leaves b's outcome alone.
  release();
  expect(await inFlight).toBe(1);
  expect(sentTo).toHaveLength(1);
  expect((await rows())[0]).toMatchObject({ status: 'sent', attempts: 1 });
  expect(logLines.some((l) => l.includes('lease'))).toBe(true);
});

test('a send that hangs past sendTimeoutMs counts as a failed attempt', async () => {
  const hanging: MailTransport = { kind: 'smtp', send: () => new Promise<void>(() => undefined) };
  const outbox = outboxFor(hanging, { lockSeconds: 3, sendTimeoutMs: 150 });
  await outbox.enqueue(message());
  const started = Date.now();
  expect(await outbox.deliverDue()).toBe(0);
  expect(Date.now() - started).toBeLessThan(2000);
  expect((await rows())[0]).toMatchObject({ status: 'pending', attempts: 1, locked_until: null });
  expect((await rows())[0].last_error).toMatch(/timed out/);
});

test('after maxAttempts failures the row is dead, scrubbed, and never retried', async () => {
  const rejecting = await startSmtp(0, {
    onRcptTo(_address, _session, cb) {
      cb(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
    },
  });
  try {
    const outbox = outboxFor(smtpTransport(rejecting.port), { maxAttempts: 3 });
    const m = message();
    await outbox.enqueue(m);
    for (let i = 1; i <= 2; i++) {
      expect(await outbox.deliverDue()).toBe(0);
      const [row] = await rows();
      expect(row).toMatchObject({ status: 'pending', attempts: i });
      clock.advance(400);
    }
    expect(await outbox.deliverDue()).toBe(0);
    const [dead] = await rows();
    expect(dead).toMatchObject({ status: 'dead', attempts: 3, subject: null, text_body: null, html_body: null, locked_until: null });
    expect(dead.last_error).toMatch(/550/);
    expect(dead.last_error).not.toContain(m.code);
    expect(dead.last_error.length).toBeLessThanOrEqual(200);
    expect(await outbox.pending()).toBe(0);
    clock.advance(3600);
    expect(await outbox.deliverDue()).toBe(0);
    expect((await rows())[0].attempts).toBe(3);
    expect(rejecting.received).toHaveLength(0);
    expect(logLines.some((l) => l.includes('given up'))).toBe(true);
    expect(logLines.join('\n')).not.toContain(m.code);
  } finally {
    for (const t of transports.splice(0)) await t.close?.();
    await rejecting.close();
  }
});

test('suppress stores a row that is never sent', async () => {
  const outbox = outboxFor(smtpTransport(smtp.port));
  await outbox.suppress('otp', 'demo');
  const [row] = await rows();
  expect(row).toMatchObject({ status: 'suppressed', to_address: '-', subject: null, text_body: null, html_body: null, tenant: 'demo', purpose: 'otp' });
  expect(await outbox.pending()).toBe(0);
  expect(await outbox.deliverDue()).toBe(0);
  clock.advance(3600);
  expect(await outbox.deliverDue()).toBe(0);
  expect(smtp.received).toHaveLength(0);
  expect((await rows())[0].status).toBe('suppressed');
});

test('the worker delivers soon after enqueue, and stop() waits for it', async () => {
  const outbox = outboxFor(smtpTransport(smtp.port), { pollIntervalMs: 60_000 });
  const worker = outbox.start();
  try {
    const m = message();
    await outbox.enqueue(m);
    for (let i = 0; i < 200 && smtp.received.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(smtp.received.map((r) => r.subject)).toEqual([m.subject]);
  } finally {
    await worker.stop();
  }
  for (let i = 0; i < 100 && (await rows())[0]?.status !== 'sent'; i++) await new Promise((r) => setTimeout(r, 10));
  expect((await rows())[0].status).toBe('sent');
  // After stop, enqueue no longer triggers a send.
  await outbox.enqueue(message());
  await new Promise((r) => setTimeout(r, 200));
  expect(smtp.received).toHaveLength(1);
  expect(await outbox.pending()).toBe(1);
});

test('the worker keeps running when a run fails', async () => {
  let calls = 0;
  const flaky: MailTransport = {
    kind: 'smtp',
    async send() {
      calls++;
    },
  };
  const broken = createOutbox({ db: { transaction: () => Promise.reject(new Error('db down')) } as unknown as Db, clock, log, transport: flaky, options: { pollIntervalMs: 20 } });
  const worker = broken.start();
  await new Promise((r) => setTimeout(r, 100));
  await worker.stop();
  expect(calls).toBe(0);
  expect(logLines.filter((l) => l.includes('mail outbox run failed')).length).toBeGreaterThanOrEqual(2);
});

test('the dev mailbox transport stores the message in dev_mailbox; createTransport picks it', async () => {
  const transport = createTransport({ smtpUrl: undefined, production: false }, db, clock);
  expect(transport.kind).toBe('dev-mailbox');
  const outbox = outboxFor(transport);
  const m = message({ to: 'Bob@Example.test', tenant: 'acme' });
  await outbox.enqueue(m);
  expect(await outbox.deliverDue()).toBe(1);
  const mails = await db('dev_mailbox').select('*');
  expect(mails).toHaveLength(1);
  expect(mails[0]).toMatchObject({
    tenant: 'acme', to_address: 'Bob@Example.test', from_address: DEFAULT_MAIL_FROM,
    subject: m.subject, text_body: m.text, html_body: m.html,
  });
  expect(new Date(mails[0].created_at).getTime()).toBe(clock.now().getTime());
  expect((await rows())[0]).toMatchObject({ status: 'sent', subject: null });

  const smtpPicked = createTransport({ smtpUrl: `smtp://127.0.0.1:${smtp.port}`, production: true }, db, clock);
  transports.push(smtpPicked);
  expect(smtpPicked.kind).toBe('smtp');
  expect(() => createTransport({ smtpUrl: undefined, production: true }, db, clock)).toThrow(/SMTP_URL/);
});

test('dev mailbox routes list the newest messages, escaped, with a ?to= filter', async () => {
  const dev = createDevMailboxTransport(db, clock);
  await dev.send({ from: 'a <a@x.test>', to: 'Carol@Example.test', subject: 'first <b>', text: 'code 111111', tenant: 'demo' });
  clock.advance(1);
  await dev.send({ from: 'a <a@x.test>', to: 'dave@example.test', subject: 'second', text: 'code 222222 <script>', html: '<p>x</p>', tenant: 'acme' });
  const app = new Koa();
  app.use(createDevRoutes({ db } as unknown as Services).routes());
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  try {
    let res = await fetch(`${base}/dev/mailbox.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const list = (await res.json()) as Array<Record<string, unknown>>;
    expect(list.map((m) => m.subject)).toEqual(['second', 'first <b>']);
    expect(list[0]).toMatchObject({ tenant: 'acme', to: 'dave@example.test', from: 'a <a@x.test>', text: 'code 222222 <script>', html: '<p>x</p>' });
    expect(typeof list[0]!.id).toBe('number');
    expect(new Date(list[0]!.created_at as string).getTime()).toBe(clock.now().getTime());

    res = await fetch(`${base}/dev/mailbox.json?to=${encodeURIComponent('carol@EXAMPLE.test')}`);
    expect(((await res.json()) as Array<{ to: string }>).map((m) => m.to)).toEqual(['Carol@Example.test']);
    res = await fetch(`${base}/dev/mailbox.json?to=carol@example`);
    expect(await res.json()).toEqual([]);

    res = await fetch(`${base}/dev/mailbox`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const page = await res.text();
    expect(page).toContain('<link rel="stylesheet" href="/assets/otp-idp.css">');
    expect(page).toContain('<main class="card">');
    expect(page).toContain('first &lt;b&gt;');
    expect(page).toContain('<pre>code 222222 &lt;script&gt;</pre>');
    expect(page).not.toContain('<script>');
    expect(page).not.toMatch(/style=/);
    expect(page.indexOf('second')).toBeLessThan(page.indexOf('first &lt;b&gt;'));
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('purgeSent deletes finished rows created before the cutoff and keeps pending ones', async () => {
  const outbox = outboxFor(createDevMailboxTransport(db, clock));
  await outbox.enqueue(message()); // day 0, sent on day 0
  await outbox.suppress('otp', 'demo'); // day 0
  expect(await outbox.deliverDue()).toBe(1);
  await db('mail_outbox').insert({ tenant: 'demo', purpose: 'otp', to_address: 'x@example.test', status: 'dead', attempts: 20, next_attempt_at: clock.now(), created_at: clock.now() });
  await db('mail_outbox').insert({ tenant: 'demo', purpose: 'otp', to_address: 'y@example.test', subject: 's', text_body: 't', status: 'pending', attempts: 3, next_attempt_at: new Date(clock.now().getTime() + 365 * 86400_000), created_at: clock.now() });
  clock.advance(6 * 86400);
  expect(await purgeSent(db, clock)).toBe(0);
  await outbox.enqueue(message()); // day 6, sent on day 6
  expect(await outbox.deliverDue()).toBe(1);
  clock.advance(2 * 86400);
  expect(await purgeSent(db, clock)).toBe(3);
  expect((await rows()).map((r) => r.status).sort()).toEqual(['pending', 'sent']);
  expect(await purgeSent(db, clock, 1)).toBe(1);
  expect((await rows()).map((r) => r.to_address)).toEqual(['y@example.test']);
});

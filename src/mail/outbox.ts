// Owns durable mail delivery: messages are written to mail_outbox first and a
// worker sends them through the transport, with retries and backoff. Rows are
// claimed with FOR UPDATE SKIP LOCKED plus a lease (locked_until), so several
// instances never send the same row at the same time. A sent or dead row keeps
// no subject or body (they carry the one-time code).
import { performance } from 'node:perf_hooks';
import type { Clock } from '../clock.js';
import type { Db } from '../db/knex.js';
import type { Logger } from '../log.js';
import type { MailMessage, MailTransport } from './transports.js';

export type OutboxStatus = 'pending' | 'sent' | 'dead' | 'suppressed';

export interface OutboxOptions {
  /** Failed attempts after which a row is given up (status dead). Default 20. */
  maxAttempts?: number;
  /** Rows claimed per round. Default 10. */
  batchSize?: number;
  /** Sends in flight at once within one round. Default 4. */
  concurrency?: number;
  /** Lease on claimed rows, seconds. Default 60. */
  lockSeconds?: number;
  /** Worker timer period, ms. Default 1000. */
  pollIntervalMs?: number;
  /** Hard limit on one transport.send, ms. Default 30000 (must be below the lease). */
  sendTimeoutMs?: number;
  /** Seconds to wait before the next attempt, given the failed attempts so far (>= 1). */
  backoffSeconds?: (attempts: number) => number;
  /**
   * The sender for a message enqueued without one (and for rows written before
   * mail_outbox.from_address existed). Default: DEFAULT_MAIL_FROM.
   */
  from?: string | ((tenant: string) => string);
}

export interface OutboxDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  transport: MailTransport;
  options?: OutboxOptions;
}

export interface OutboxWorker {
  stop(): Promise<void>;
}

export interface Outbox {
  /** Stores a pending message and wakes the worker; does not wait for delivery. */
  enqueue(message: MailMessage & { purpose: string }): Promise<void>;
  /** Stores a row that is never sent (same database work as enqueue, for unknown addresses). */
  suppress(purpose: string, tenant: string): Promise<void>;
  /** Claims due rows, sends them, records the outcome; returns how many were sent. */
  deliverDue(): Promise<number>;
  /** Starts the background worker (on wake-up and every pollIntervalMs). */
  start(): OutboxWorker;
  /** Number of pending rows. */
  pending(): Promise<number>;
}

interface ClaimedRow {
  id: number;
  tenant: string;
  purpose: string;
  to_address: string;
  from_address: string | null;
  subject: string | null;
  text_body: string | null;
  html_body: string | null;
  attempts: number;
}

const TABLE = 'mail_outbox';

/** The default of MAIL_FROM (src/config.ts). */
export const DEFAULT_MAIL_FROM = 'otp-idp <no-reply@localhost>';

/** 2s, 4s, 8s … capped at 5 minutes, plus up to 10% jitter. */
export function defaultBackoffSeconds(attempts: number): number {
  const base = Math.min(300, 2 ** Math.max(1, attempts));
  return base + Math.random() * base * 0.1;
}

/** A short, body-free description of a delivery error for last_error and logs. */
export function describeError(err: unknown, scrub: Array<string | null | undefined> = []): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; responseCode?: unknown; message?: unknown };
  const parts: string[] = [];
  if (typeof e.code === 'string' && e.code) parts.push(e.code);
  if (typeof e.responseCode === 'number') parts.push(String(e.responseCode));
  let message = typeof e.message === 'string' ? e.message : String(err);
  for (const s of scrub) if (s && s.length >= 4) message = message.split(s).join('[redacted]');
  // Anything that looks like a one-time code never reaches the database or logs.
  message = message.replace(/\b\d{6,}\b/g, '[redacted]');
  const text = [...parts, message].join(' ').replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

export function createOutbox({ db, clock, log, transport, options = {} }: OutboxDeps): Outbox {
  const maxAttempts = options.maxAttempts ?? 20;
  const batchSize = options.batchSize ?? 10;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const lockMs = (options.lockSeconds ?? 60) * 1000;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const sendTimeoutMs = options.sendTimeoutMs ?? Math.min(30_000, lockMs / 2);
  const backoffSeconds = options.backoffSeconds ?? defaultBackoffSeconds;
  if (sendTimeoutMs + 1000 >= lockMs) throw new Error('outbox: sendTimeoutMs must be at least 1s below lockSeconds');
  if (maxAttempts < 1 || batchSize < 1) throw new Error('outbox: maxAttempts and batchSize must be at least 1');

  const senderFor = (tenant: string): string =>
    typeof options.from === 'function' ? options.from(tenant) : (options.from ?? DEFAULT_MAIL_FROM);

  let stopping = false;
  let wake: (() => void) | undefined;
  let worker: OutboxWorker | undefined;

  const after = (from: Date, ms: number) => new Date(from.getTime() + ms);

  async function claim(): Promise<{ rows: ClaimedRow[]; lockedUntil: Date }> {
    const now = clock.now();
    const lockedUntil = after(now, lockMs);
    const rows = await db.transaction(async (trx) => {
      const due = await trx(TABLE)
        .select('id')
        .where('status', 'pending')
        .andWhere('next_attempt_at', '<=', now)
        .andWhere((q) => q.whereNull('locked_until').orWhere('locked_until', '<', now))
        .orderBy([{ column: 'next_attempt_at' }, { column: 'id' }])
        .limit(batchSize)
        .forUpdate()
        .skipLocked();
      if (!due.length) return [];
      return (await trx(TABLE)
        .whereIn('id', due.map((r: { id: number }) => r.id))
        .update({ locked_until: lockedUntil })
        .returning(['id', 'tenant', 'purpose', 'to_address', 'from_address', 'subject', 'text_body', 'html_body', 'attempts'])) as ClaimedRow[];
    });
    rows.sort((a, b) => Number(a.id) - Number(b.id));
    return { rows, lockedUntil };
  }

  /** Records an outcome on a row this run still holds the lease on. */
  async function settle(row: ClaimedRow, lockedUntil: Date, changes: Record<string, unknown>): Promise<void> {
    const updated = await db(TABLE).where({ id: row.id, status: 'pending', locked_until: lockedUntil }).update(changes);
    if (updated === 0) {
      log.warn({ outboxId: row.id, tenant: row.tenant, purpose: row.purpose }, 'mail outbox lease expired during delivery; the row was taken over');
    }
  }

  async function sendWithTimeout(message: MailMessage): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        transport.send(message),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error('send timed out'), { code: 'ETIMEDOUT' })), sendTimeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function deliverOne(row: ClaimedRow, lockedUntil: Date): Promise<boolean> {
    const attempts = row.attempts + 1;
    if (row.subject === null || row.text_body === null) {
      await settle(row, lockedUntil, {
        status: 'dead', attempts, last_error: 'message has no subject or body',
        subject: null, text_body: null, html_body: null, locked_until: null,
      });
      log.warn({ outboxId: row.id, tenant: row.tenant, purpose: row.purpose }, 'mail outbox row unusable, given up');
      return false;
    }
    try {
      await sendWithTimeout({
        from: row.from_address ?? senderFor(row.tenant),
        to: row.to_address,
        subject: row.subject,
        text: row.text_body,
        html: row.html_body ?? undefined,
        tenant: row.tenant,
      });
    } catch (err) {
      const lastError = describeError(err, [row.subject, row.text_body, row.html_body]);
      const now = clock.now();
      if (attempts >= maxAttempts) {
        await settle(row, lockedUntil, {
          status: 'dead', attempts, last_error: lastError, locked_until: null,
          subject: null, text_body: null, html_body: null,
        });
        log.warn({ outboxId: row.id, tenant: row.tenant, purpose: row.purpose, attempts, error: lastError }, 'mail delivery failed, given up');
      } else {
        const delayMs = Math.max(0, backoffSeconds(attempts) * 1000);
        await settle(row, lockedUntil, {
          attempts, last_error: lastError, next_attempt_at: after(now, delayMs), locked_until: null,
        });
        log.warn({ outboxId: row.id, tenant: row.tenant, purpose: row.purpose, attempts, error: lastError }, 'mail delivery failed, will retry');
      }
      return false;
    }
    await settle(row, lockedUntil, {
      status: 'sent', attempts, sent_at: clock.now(), locked_until: null, last_error: null,
      subject: null, text_body: null, html_body: null,
    });
    return true;
  }

  async function deliverRound(): Promise<{ claimed: number; sent: number }> {
    const { rows, lockedUntil } = await claim();
    if (!rows.length) return { claimed: 0, sent: 0 };
    // A send may only start while it can finish inside the lease.
    const startDeadline = performance.now() + lockMs - sendTimeoutMs - 1000;
    let sent = 0;
    let next = 0;
    const unstarted: number[] = [];
    const lane = async () => {
      while (next < rows.length) {
        const row = rows[next++]!;
        if (performance.now() > startDeadline) {
          unstarted.push(row.id);
          continue;
        }
        if (await deliverOne(row, lockedUntil)) sent++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, rows.length) }, lane));
    if (unstarted.length) {
      await db(TABLE).whereIn('id', unstarted).andWhere({ status: 'pending', locked_until: lockedUntil }).update({ locked_until: null });
    }
    return { claimed: rows.length, sent };
  }

  async function deliverDue(): Promise<number> {
    let total = 0;
    for (let round = 0; round < 50; round++) {
      const { claimed, sent } = await deliverRound();
      total += sent;
      if (claimed < batchSize || stopping) break;
    }
    return total;
  }

  async function enqueue(message: MailMessage & { purpose: string }): Promise<void> {
    if (!message.to || !message.subject || !message.text) throw new Error('outbox: a message needs to, subject and text');
    const now = clock.now();
    await db(TABLE).insert({
      tenant: message.tenant,
      purpose: message.purpose,
      to_address: message.to,
      from_address: message.from || senderFor(message.tenant),
      subject: message.subject,
      text_body: message.text,
      html_body: message.html ?? null,
      status: 'pending',
      attempts: 0,
      next_attempt_at: now,
      created_at: now,
    });
    wake?.();
  }

  async function suppress(purpose: string, tenant: string): Promise<void> {
    const now = clock.now();
    await db(TABLE).insert({
      tenant,
      purpose,
      to_address: '-',
      subject: null,
      text_body: null,
      html_body: null,
      status: 'suppressed',
      attempts: 0,
      next_attempt_at: now,
      created_at: now,
    });
  }

  async function pending(): Promise<number> {
    const [row] = await db(TABLE).where('status', 'pending').count({ n: '*' });
    return Number((row as { n: unknown } | undefined)?.n ?? 0);
  }

  function start(): OutboxWorker {
    if (worker) return worker;
    stopping = false;
    let running: Promise<void> | undefined;
    let again = false;
    const kick = () => {
      if (stopping) return;
      if (running) {
        again = true;
        return;
      }
      running = (async () => {
        do {
          again = false;
          try {
            await deliverDue();
          } catch (err) {
            log.warn({ error: describeError(err) }, 'mail outbox run failed');
          }
        } while (again && !stopping);
      })().finally(() => {
        running = undefined;
      });
    };
    const timer = setInterval(kick, pollIntervalMs);
    timer.unref();
    wake = kick;
    kick();
    const handle: OutboxWorker = {
      async stop() {
        stopping = true;
        clearInterval(timer);
        if (wake === kick) wake = undefined;
        if (worker === handle) worker = undefined;
        await running;
      },
    };
    worker = handle;
    return handle;
  }

  return { enqueue, suppress, deliverDue, start, pending };
}

/** Deletes sent, suppressed and dead rows created more than olderThanDays ago; returns how many. */
export async function purgeSent(db: Db, clock: Clock, olderThanDays = 7): Promise<number> {
  const cutoff = new Date(clock.now().getTime() - olderThanDays * 86400_000);
  return db(TABLE).whereIn('status', ['sent', 'suppressed', 'dead']).andWhere('created_at', '<', cutoff).delete();
}

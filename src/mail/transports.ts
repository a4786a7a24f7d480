// Owns how one message leaves the process: SMTP (nodemailer, pooled) when
// SMTP_URL is set, else the development mailbox table. `send` throws on failure;
// retries are the outbox's job.
import nodemailer from 'nodemailer';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Db } from '../db/knex.js';

export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  html?: string | undefined;
  tenant: string;
}

export interface MailTransport {
  kind: 'smtp' | 'dev-mailbox';
  /** Delivers one message; throws on failure. */
  send(message: MailMessage): Promise<void>;
  close?(): Promise<void>;
}

export interface SmtpTransportOptions {
  /** Connect, greeting and socket inactivity timeouts (ms). */
  timeoutMs?: number;
  /** Pooled connections (default true). */
  pool?: boolean;
  maxConnections?: number;
}

export function createSmtpTransport(smtpUrl: string, options: SmtpTransportOptions = {}): MailTransport {
  const timeout = options.timeoutMs ?? 10_000;
  const common = {
    url: smtpUrl,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    dnsTimeout: timeout,
    disableFileAccess: true,
    disableUrlAccess: true,
  };
  const transporter =
    options.pool === false
      ? nodemailer.createTransport(common)
      : nodemailer.createTransport({
          ...common,
          pool: true,
          maxConnections: options.maxConnections ?? 5,
          maxMessages: 100,
          // The outbox retries; the pool must not re-send on its own.
          maxRequeues: 0,
        });
  return {
    kind: 'smtp',
    async send(message) {
      await transporter.sendMail({
        from: message.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        ...(message.html !== undefined ? { html: message.html } : {}),
        headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
      });
    },
    async close() {
      transporter.close();
    },
  };
}

/** Development only: "sends" by storing the message in dev_mailbox (read at /dev/mailbox). */
export function createDevMailboxTransport(db: Db, clock: Clock): MailTransport {
  return {
    kind: 'dev-mailbox',
    async send(message) {
      await db('dev_mailbox').insert({
        tenant: message.tenant,
        to_address: message.to,
        from_address: message.from,
        subject: message.subject,
        text_body: message.text,
        html_body: message.html ?? null,
        created_at: clock.now(),
      });
    },
  };
}

export function createTransport(config: Pick<Config, 'smtpUrl' | 'production'>, db: Db, clock: Clock): MailTransport {
  if (config.smtpUrl) return createSmtpTransport(config.smtpUrl);
  if (config.production) throw new Error('SMTP_URL: required when NODE_ENV=production (the dev mailbox is development only)');
  return createDevMailboxTransport(db, clock);
}

// The mail module: transports (SMTP or the development mailbox) and the durable
// outbox that delivers through them. Knows nothing of Koa or oidc-provider.
export {
  createDevMailboxTransport,
  createSmtpTransport,
  createTransport,
  type MailMessage,
  type MailTransport,
  type SmtpTransportOptions,
} from './transports.js';
export {
  createOutbox,
  defaultBackoffSeconds,
  describeError,
  purgeSent,
  DEFAULT_MAIL_FROM,
  type Outbox,
  type OutboxDeps,
  type OutboxOptions,
  type OutboxStatus,
  type OutboxWorker,
} from './outbox.js';

// Owns the Prometheus metrics: HTTP traffic, sign-in outcomes and the mail
// outbox backlog, exposed at /metrics.
import client from 'prom-client';

export function createMetrics(pendingMail: () => Promise<number>) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new client.Counter({
      name: 'otp_idp_http_requests_total',
      help: 'HTTP requests by route group and status class',
      labelNames: ['group', 'status'],
      registers: [registry],
    }),
    duration: new client.Histogram({
      name: 'otp_idp_http_request_duration_seconds',
      help: 'HTTP request duration by route group',
      labelNames: ['group'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    signIn: new client.Counter({
      name: 'otp_idp_sign_in_events_total',
      help: 'Sign-in steps by tenant and outcome (code_sent, code_rate_limited, code_verified, code_wrong, code_expired, code_exhausted, blocked, signed_in, refused)',
      labelNames: ['tenant', 'event'],
      registers: [registry],
    }),
    mailPending: new client.Gauge({
      name: 'otp_idp_mail_outbox_pending',
      help: 'Messages waiting in the outbox',
      registers: [registry],
      async collect() {
        this.set(await pendingMail().catch(() => -1));
      },
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

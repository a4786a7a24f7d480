// Owns the audit trail: who signed in where, and what failed, in Postgres
// (never a code, a token or a secret).
import type { Clock } from './clock.js';
import type { Db } from './db/knex.js';

export interface AuditEvent {
  tenant: string;
  type: string;
  userId?: string | null | undefined;
  ip?: string | undefined;
  detail?: Record<string, string | number | boolean> | undefined;
}

export function createAudit(db: Db, clock: Clock) {
  return {
    async record(event: AuditEvent): Promise<void> {
      await db('audit_events').insert({
        tenant: event.tenant,
        type: event.type,
        user_id: event.userId ?? null,
        ip: event.ip ?? null,
        detail: event.detail ? JSON.stringify(event.detail) : null,
        at: clock.now(),
      });
    },
  };
}

export type Audit = ReturnType<typeof createAudit>;

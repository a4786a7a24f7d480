// Owns oidc-provider's persistence: every model (Session, Interaction, Grant,
// AuthorizationCode, AccessToken, RefreshToken, ...) in one table keyed by
// (tenant, kind, id), payload as jsonb. Clients are read from the client registry.
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Clock } from '../clock.js';
import type { Db } from './knex.js';

export interface ClientSource {
  /** Client metadata as oidc-provider expects it, or undefined. */
  findClient(tenant: string, clientId: string): Promise<AdapterPayload | undefined>;
}

interface ModelRow {
  payload: AdapterPayload;
  expires_at: Date | null;
  consumed_at: Date | null;
}

export function createAdapterClass(db: Db, tenant: string, clients: ClientSource, clock: Clock) {
  return class KnexAdapter implements Adapter {
    constructor(readonly kind: string) {}

    private rows() {
      return db<ModelRow>('oidc_models').where('tenant', tenant).andWhere('kind', this.kind);
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (this.kind === 'Client') throw new Error('clients are managed by the client registry');
      const expiresAt = expiresIn ? new Date(clock.now().getTime() + expiresIn * 1000) : null;
      await db('oidc_models')
        .insert({
          tenant,
          kind: this.kind,
          id,
          payload: JSON.stringify(payload),
          grant_id: payload.grantId ?? null,
          uid: payload.uid ?? null,
          user_code: payload.userCode ?? null,
          expires_at: expiresAt,
          consumed_at: null,
        })
        .onConflict(['tenant', 'kind', 'id'])
        .merge(['payload', 'grant_id', 'uid', 'user_code', 'expires_at']);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.kind === 'Client') return clients.findClient(tenant, id);
      return this.one(this.rows().andWhere('id', id));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.one(this.rows().andWhere('uid', uid));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.one(this.rows().andWhere('user_code', userCode));
    }

    async consume(id: string): Promise<void> {
      await this.rows().andWhere('id', id).update({ consumed_at: clock.now() });
    }

    async destroy(id: string): Promise<void> {
      await this.rows().andWhere('id', id).delete();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db('oidc_models').where({ tenant, grant_id: grantId }).delete();
    }

    private async one(query: ReturnType<KnexAdapter['rows']>): Promise<AdapterPayload | undefined> {
      const row = await query.first('payload', 'expires_at', 'consumed_at');
      if (!row) return undefined;
      if (row.expires_at && row.expires_at.getTime() <= clock.now().getTime()) return undefined;
      const payload = typeof row.payload === 'string' ? (JSON.parse(row.payload) as AdapterPayload) : row.payload;
      if (row.consumed_at) return { ...payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) };
      return payload;
    }
  };
}

/** Expired sessions are kept this long, so the next sign-in can say why it is needed. */
export const ENDED_SESSION_KEEP_SECONDS = 7 * 86400;

export interface EndedSession {
  accountId: string;
  loginTs: number | undefined;
  expiredAt: Date;
}

/** A session that existed and has expired (not one that was signed out: those are deleted). */
export async function findEndedSession(db: Db, clock: Clock, tenant: string, id: string): Promise<EndedSession | undefined> {
  const row = await db('oidc_models').where({ tenant, kind: 'Session', id }).first('payload', 'expires_at');
  if (!row?.expires_at || new Date(row.expires_at).getTime() > clock.now().getTime()) return undefined;
  const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as { accountId?: string; loginTs?: number };
  if (!payload.accountId) return undefined;
  return { accountId: payload.accountId, loginTs: payload.loginTs, expiredAt: new Date(row.expires_at) };
}

/** Deletes expired rows in bounded batches; returns how many went. */
export async function purgeExpired(db: Db, clock: Clock, batchSize = 500, maxBatches = 20): Promise<number> {
  let total = 0;
  const now = clock.now();
  const keptSessions = new Date(now.getTime() - ENDED_SESSION_KEEP_SECONDS * 1000);
  const tables: Array<[string, (q: ReturnType<Db>) => unknown]> = [
    ['oidc_models', (q) => q.where((w) => w.whereNot('kind', 'Session').andWhere('expires_at', '<', now)).orWhere((w) => w.where('kind', 'Session').andWhere('expires_at', '<', keptSessions))],
    ['otp_challenges', (q) => q.where('expires_at', '<', now)],
    ['counters', (q) => q.where('expires_at', '<', now)],
    ['sign_in_states', (q) => q.where('expires_at', '<', now)],
  ];
  for (const [table, expired] of tables) {
    for (let i = 0; i < maxBatches; i++) {
      const victims = db(table).select('ctid').limit(batchSize);
      expired(victims);
      const deleted = await db(table)
        .whereIn('ctid', victims)
        .delete();
      total += deleted;
      if (deleted < batchSize) break;
    }
  }
  return total;
}

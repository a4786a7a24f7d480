// Owns the signing keys and cookie keys: generated on first start, stored in
// Postgres with private parts sealed under SECRETS_KEY, shared by all instances.
// The newest active key of each algorithm signs; older active keys stay in JWKS
// (so tokens they signed still verify) until they are retired.
import { generateKeyPairSync, randomBytes, randomUUID, type JsonWebKey } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db } from '../db/knex.js';
import type { Secrets } from '../secrets.js';

export const signingAlgs = ['RS256', 'ES256'] as const;
export type SigningAlg = (typeof signingAlgs)[number];

export interface KeyInfo {
  kid: string;
  alg: string;
  status: 'active' | 'retired';
  signing: boolean;
  createdAt: Date;
  retiredAt: Date | null;
}

interface KeyRow {
  kid: string;
  alg: string;
  status: 'active' | 'retired';
  private_jwk_sealed: string;
  public_jwk: JsonWebKey;
  created_at: Date;
  retired_at: Date | null;
}

const KEY_LOCK = 0x6b657973; // "keys"

function generate(alg: SigningAlg): { kid: string; privateJwk: JsonWebKey; publicJwk: JsonWebKey } {
  const { privateKey, publicKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`;
  const meta = { kid, alg, use: 'sig' };
  return {
    kid,
    privateJwk: { ...privateKey.export({ format: 'jwk' }), ...meta },
    publicJwk: { ...publicKey.export({ format: 'jwk' }), ...meta },
  };
}

export function createKeyStore(db: Db, secrets: Secrets, clock: Clock) {
  async function insertKey(trx: Db, alg: SigningAlg): Promise<string> {
    const { kid, privateJwk, publicJwk } = generate(alg);
    await trx('signing_keys').insert({
      kid,
      alg,
      status: 'active',
      private_jwk_sealed: secrets.encrypt(JSON.stringify(privateJwk), `signing-key:${kid}`),
      public_jwk: JSON.stringify(publicJwk),
      created_at: clock.now(),
    });
    return kid;
  }

  async function withLock<T>(fn: (trx: Db) => Promise<T>): Promise<T> {
    return db.transaction(async (trx) => {
      await trx.raw('select pg_advisory_xact_lock(?)', [KEY_LOCK]);
      return fn(trx as unknown as Db);
    });
  }

  return {
    /** Makes sure one active key per algorithm and the cookie keys exist. */
    async ensure(): Promise<void> {
      await withLock(async (trx) => {
        for (const alg of signingAlgs) {
          const active = await trx('signing_keys').where({ alg, status: 'active' }).first('kid');
          if (!active) await insertKey(trx, alg);
        }
        const cookie = await trx('server_secrets').where({ name: 'cookie-keys' }).first('name');
        if (!cookie) {
          const keys = [randomBytes(32).toString('base64url')];
          await trx('server_secrets').insert({
            name: 'cookie-keys',
            value_sealed: secrets.encrypt(JSON.stringify(keys), 'cookie-keys'),
            created_at: clock.now(),
          });
        }
      });
    },

    /** Private JWKs for oidc-provider: per algorithm, newest (the signing key) first. */
    async privateJwks(): Promise<JsonWebKey[]> {
      const rows = await db<KeyRow>('signing_keys').where({ status: 'active' }).orderBy('created_at', 'desc').orderBy('kid');
      return rows.map((r) => JSON.parse(secrets.decrypt(r.private_jwk_sealed, `signing-key:${r.kid}`)) as JsonWebKey);
    },

    async cookieKeys(): Promise<string[]> {
      const row = await db('server_secrets').where({ name: 'cookie-keys' }).first('value_sealed');
      if (!row) throw new Error('cookie keys missing: run migrations and start the server once');
      return JSON.parse(secrets.decrypt(row.value_sealed, 'cookie-keys')) as string[];
    },

    /** A fingerprint of the key set; instances rebuild providers when it changes. */
    async version(): Promise<string> {
      const rows = await db('signing_keys').select('kid', 'status').orderBy('kid');
      return rows.map((r) => `${r.kid}:${r.status}`).join(',');
    },

    async list(): Promise<KeyInfo[]> {
      const rows = await db<KeyRow>('signing_keys').orderBy('created_at', 'desc').orderBy('kid');
      const signing = new Set<string>();
      return rows.map((r) => {
        const isSigning = r.status === 'active' && !signing.has(r.alg);
        if (isSigning) signing.add(r.alg);
        return { kid: r.kid, alg: r.alg, status: r.status, signing: isSigning, createdAt: r.created_at, retiredAt: r.retired_at };
      });
    },

    /** New signing keys for every algorithm; the previous ones stay published until retired. */
    async rotate(): Promise<string[]> {
      return withLock(async (trx) => {
        const kids: string[] = [];
        for (const alg of signingAlgs) kids.push(await insertKey(trx, alg));
        return kids;
      });
    },

    /** Removes a non-signing key from JWKS: tokens it signed stop verifying. */
    async retire(kid: string): Promise<'retired' | 'unknown' | 'signing'> {
      return withLock(async (trx) => {
        const row = await trx<KeyRow>('signing_keys').where({ kid }).first();
        if (!row || row.status === 'retired') return 'unknown';
        const newest = await trx<KeyRow>('signing_keys')
          .where({ alg: row.alg, status: 'active' })
          .orderBy('created_at', 'desc')
          .orderBy('kid')
          .first('kid');
        if (newest?.kid === kid) return 'signing';
        await trx('signing_keys').where({ kid }).update({ status: 'retired', retired_at: clock.now() });
        return 'retired';
      });
    },
  };
}

export type KeyStore = ReturnType<typeof createKeyStore>;

// Owns the client registry: OIDC clients (portals, mobile apps, services) per
// tenant, their redirect URIs and their secrets (sealed at rest, shown once).
import { randomBytes } from 'node:crypto';
import type { AdapterPayload } from 'oidc-provider';
import type { Clock } from '../clock.js';
import type { ClientSource } from '../db/adapter.js';
import type { Db } from '../db/knex.js';
import type { Secrets } from '../secrets.js';

export class ClientInputError extends Error {
  override name = 'ClientInputError';
}

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface NewClient {
  tenant: string;
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  public?: boolean;
  firstParty?: boolean;
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
}

export interface ClientInfo {
  tenant: string;
  clientId: string;
  name: string;
  public: boolean;
  firstParty: boolean;
  applicationType: 'web' | 'native';
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  createdAt: Date;
}

interface ClientRow {
  tenant: string;
  client_id: string;
  name: string;
  metadata: Record<string, unknown>;
  secret_sealed: string | null;
  first_party: boolean;
  created_at: Date;
  updated_at: Date;
}

const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

/** What kind of redirect URI this is, or an error message. */
export function classifyRedirectUri(uri: string): 'web' | 'loopback' | 'custom-scheme' | string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `"${uri}" is not an absolute URI`;
  }
  if (url.hash) return `"${uri}" must not contain a fragment`;
  if (url.protocol === 'https:') return 'web';
  if (url.protocol === 'http:') {
    return loopbackHosts.has(url.hostname) ? 'loopback' : `"${uri}" must use https (http only for localhost)`;
  }
  const scheme = url.protocol.slice(0, -1);
  if (!scheme.includes('.')) return `"${uri}": a custom scheme must be a reverse domain name such as com.example.app`;
  return 'custom-scheme';
}

function toInfo(row: ClientRow): ClientInfo {
  const m = row.metadata as {
    application_type: 'web' | 'native';
    redirect_uris: string[];
    post_logout_redirect_uris?: string[];
    grant_types: string[];
    token_endpoint_auth_method: TokenEndpointAuthMethod;
  };
  return {
    tenant: row.tenant,
    clientId: row.client_id,
    name: row.name,
    public: m.token_endpoint_auth_method === 'none',
    firstParty: row.first_party,
    applicationType: m.application_type,
    redirectUris: m.redirect_uris,
    postLogoutRedirectUris: m.post_logout_redirect_uris ?? [],
    grantTypes: m.grant_types,
    tokenEndpointAuthMethod: m.token_endpoint_auth_method,
    createdAt: row.created_at,
  };
}

const newSecret = () => randomBytes(32).toString('base64url');
const sealContext = (tenant: string, clientId: string) => `client-secret:${tenant}:${clientId}`;

export function createClientRegistry(db: Db, secrets: Secrets, clock: Clock) {
  const registry = {
    async create(input: NewClient & { clientId?: string }): Promise<{ client: ClientInfo; clientSecret?: string }> {
      const name = input.name.trim();
      if (!name) throw new ClientInputError('--name is required');
      if (input.redirectUris.length === 0) throw new ClientInputError('at least one --redirect-uri is required');
      const kinds = input.redirectUris.map(classifyRedirectUri);
      const bad = [...kinds, ...(input.postLogoutRedirectUris ?? []).map(classifyRedirectUri)].find(
        (k) => !['web', 'loopback', 'custom-scheme'].includes(k),
      );
      if (bad) throw new ClientInputError(bad);
      const isPublic = input.public ?? false;
      const native = kinds.some((k) => k === 'custom-scheme') || (isPublic && kinds.every((k) => k === 'loopback'));
      if (kinds.includes('custom-scheme') && !isPublic) {
        throw new ClientInputError('a custom-scheme redirect URI is for native apps: add --public');
      }
      const authMethod: TokenEndpointAuthMethod = isPublic ? 'none' : (input.tokenEndpointAuthMethod ?? 'client_secret_basic');
      if (isPublic && input.tokenEndpointAuthMethod && input.tokenEndpointAuthMethod !== 'none') {
        throw new ClientInputError('a public client has no secret: drop --token-endpoint-auth-method');
      }
      const clientId = input.clientId ?? `${input.tenant}-${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`;
      const metadata = {
        client_name: name,
        application_type: native ? 'native' : 'web',
        redirect_uris: input.redirectUris,
        post_logout_redirect_uris: input.postLogoutRedirectUris ?? [],
        response_types: ['code'],
        grant_types: isPublic ? ['authorization_code', 'refresh_token'] : ['authorization_code', 'refresh_token', 'client_credentials'],
        token_endpoint_auth_method: authMethod,
      };
      const secret = isPublic ? undefined : newSecret();
      const now = clock.now();
      const insert = db('clients').insert({
        tenant: input.tenant,
        client_id: clientId,
        name,
        metadata: JSON.stringify(metadata),
        secret_sealed: secret ? secrets.encrypt(secret, sealContext(input.tenant, clientId)) : null,
        first_party: input.firstParty ?? true,
        created_at: now,
        updated_at: now,
      });
      // A fixed client id (the demo portal) is re-registered in place on every start.
      await (input.clientId ? insert.onConflict(['tenant', 'client_id']).merge(['name', 'metadata', 'updated_at']) : insert);
      const client = (await registry.show(input.tenant, clientId))!;
      return secret ? { client, clientSecret: secret } : { client };
    },

    async list(tenant?: string): Promise<ClientInfo[]> {
      const q = db<ClientRow>('clients').orderBy(['tenant', 'created_at', 'client_id']);
      if (tenant) q.where({ tenant });
      return (await q).map(toInfo);
    },

    async show(tenant: string, clientId: string): Promise<ClientInfo | undefined> {
      const row = await db<ClientRow>('clients').where({ tenant, client_id: clientId }).first();
      return row ? toInfo(row) : undefined;
    },

    async delete(tenant: string, clientId: string): Promise<boolean> {
      return db.transaction(async (trx) => {
        const n = await trx('clients').where({ tenant, client_id: clientId }).delete();
        if (n > 0) {
          // Tokens and grants of a deleted client must stop working too.
          await trx('oidc_models').where({ tenant }).whereRaw("payload->>'clientId' = ?", [clientId]).delete();
        }
        return n > 0;
      });
    },

    async rotateSecret(tenant: string, clientId: string): Promise<string | undefined> {
      const row = await db<ClientRow>('clients').where({ tenant, client_id: clientId }).first();
      if (!row || row.metadata.token_endpoint_auth_method === 'none') return undefined;
      const secret = newSecret();
      await db('clients')
        .where({ tenant, client_id: clientId })
        .update({ secret_sealed: secrets.encrypt(secret, sealContext(tenant, clientId)), updated_at: clock.now() });
      return secret;
    },
  };

  const source: ClientSource = {
    async findClient(tenant, clientId): Promise<AdapterPayload | undefined> {
      const row = await db<ClientRow>('clients').where({ tenant, client_id: clientId }).first();
      if (!row) return undefined;
      const payload: AdapterPayload = { ...(row.metadata as AdapterPayload), client_id: row.client_id, first_party: row.first_party };
      if (row.secret_sealed) payload.client_secret = secrets.decrypt(row.secret_sealed, sealContext(tenant, clientId));
      return payload;
    },
  };

  return { ...registry, source };
}

export type ClientRegistry = ReturnType<typeof createClientRegistry>;

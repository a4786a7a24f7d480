// Owns the per-tenant providers: built lazily on first use, cached, and rebuilt
// when the shared key set changes (a `keys rotate` on any instance).
import type Provider from 'oidc-provider';
import type { Config } from '../config.js';
import { issuerFor } from '../config.js';
import type { Tenant } from '../tenants/index.js';
import type { KeyStore } from './keys.js';
import { createTenantProvider, type ProviderDeps } from './provider.js';

export interface ProviderRegistry {
  get(tenant: Tenant): Promise<Provider>;
  /** Checks the key set and drops cached providers if it changed. */
  refreshKeys(): Promise<boolean>;
}

export function createProviderRegistry(
  config: Config,
  keys: KeyStore,
  deps: Omit<ProviderDeps, 'jwks' | 'cookieKeys'>,
): ProviderRegistry {
  let cache = new Map<string, Promise<Provider>>();
  let keyVersion: string | undefined;
  let material: Promise<{ jwks: object[]; cookieKeys: string[] }> | undefined;

  const loadMaterial = () =>
    (material ??= Promise.all([keys.privateJwks(), keys.cookieKeys()]).then(([jwks, cookieKeys]) => ({ jwks, cookieKeys })));

  return {
    get(tenant) {
      let provider = cache.get(tenant.slug);
      if (!provider) {
        provider = loadMaterial().then((m) => {
          const p = createTenantProvider(tenant, issuerFor(config, tenant.slug), { ...deps, ...m });
          p.proxy = config.trustProxy;
          return p;
        });
        provider.catch(() => cache.delete(tenant.slug));
        cache.set(tenant.slug, provider);
      }
      return provider;
    },
    async refreshKeys() {
      const version = await keys.version();
      const changed = keyVersion !== undefined && version !== keyVersion;
      keyVersion = version;
      if (changed) {
        material = undefined;
        cache = new Map();
      }
      return changed;
    },
  };
}

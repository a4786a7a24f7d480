// Owns the tenants: loads TENANTS_DIR/<slug>/tenant.json, validates it and the
// files it names, and answers "which portal is this?".
import fs from 'node:fs';
import path from 'node:path';
import { tenantSchema, type TenantFile } from './schema.js';

export * from './schema.js';

export interface Tenant extends TenantFile {
  slug: string;
  dir: string;
}

export class TenantError extends Error {
  override name = 'TenantError';
}

const slugPattern = /^[a-z0-9][a-z0-9-]{0,39}$/;
const reservedSlugs = new Set(['healthz', 'readyz', 'metrics', 'dev', 'assets', 'demo-portal', 'admin', 'static']);

export function loadTenant(dir: string): Tenant {
  const slug = path.basename(dir);
  const file = path.join(dir, 'tenant.json');
  const where = path.relative(process.cwd(), file) || file;
  if (!slugPattern.test(slug) || reservedSlugs.has(slug)) {
    throw new TenantError(`${where}: folder name "${slug}" must be a lower-case slug (a-z, 0-9, -) and not reserved`);
  }
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new TenantError(`${where}: ${(err as Error).message}`);
  }
  const parsed = tenantSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    let field = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') field = [...issue.path, issue.keys[0]].join('.');
    const message = issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message;
    throw new TenantError(`${where}: ${field || '(root)'}: ${message}`);
  }
  const tenant: Tenant = { ...parsed.data, slug, dir };
  const files: Array<[string, string | undefined]> = [
    ['branding.logo', tenant.branding.logo],
    ['branding.favicon', tenant.branding.favicon],
    ['branding.backgroundImage', tenant.branding.backgroundImage],
    ['branding.css', tenant.branding.css],
    ['email.htmlTemplate', tenant.email.htmlTemplate],
    ['email.textTemplate', tenant.email.textTemplate],
  ];
  for (const [field, name] of files) {
    if (name && !fs.existsSync(path.join(dir, name))) {
      throw new TenantError(`${where}: ${field}: file "${name}" does not exist`);
    }
  }
  return tenant;
}

export interface TenantRegistry {
  list(): Tenant[];
  get(slug: string): Tenant | undefined;
}

export function loadTenants(tenantsDir: string, options: { includeDemo: boolean }): TenantRegistry {
  if (!fs.existsSync(tenantsDir)) throw new TenantError(`TENANTS_DIR: folder ${tenantsDir} does not exist`);
  const tenants = new Map<string, Tenant>();
  for (const entry of fs.readdirSync(tenantsDir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory() || entry.name.startsWith('.') || entry.name.startsWith('_')) continue;
    const tenant = loadTenant(path.join(tenantsDir, entry.name));
    if (tenant.demo && !options.includeDemo) continue;
    tenants.set(tenant.slug, tenant);
  }
  if (tenants.size === 0) throw new TenantError(`TENANTS_DIR: no tenant folders with a tenant.json in ${tenantsDir}`);
  return { list: () => [...tenants.values()], get: (slug) => tenants.get(slug) };
}

export { contrastRatio, luminance } from './contrast.js';

// Owns `tenants check`: validates every tenant folder and reports colour pairs
// that fail WCAG AA contrast, without stopping at the first bad tenant.
import fs from 'node:fs';
import path from 'node:path';
import { contrastRatio } from './contrast.js';
import { loadTenant, type Tenant } from './index.js';

export interface TenantReport {
  slug: string;
  tenant?: Tenant;
  errors: string[];
  warnings: string[];
}

const AA = 4.5;

export function contrastProblems(tenant: Tenant): string[] {
  const b = tenant.branding;
  const problems: string[] = [];
  const pairs: Array<[string, string, string, string]> = [
    ['branding.textColor', b.textColor, 'the white card', '#ffffff'],
  ];
  for (const [an, a, bn, bc] of pairs) {
    const ratio = contrastRatio(a, bc);
    if (ratio < AA) problems.push(`${an} ${a} on ${bn} ${bc}: contrast ${ratio.toFixed(2)}:1 fails WCAG AA (needs ${AA}:1)`);
  }
  const onPrimary = Math.max(contrastRatio(b.primaryColor, '#ffffff'), contrastRatio(b.primaryColor, '#111111'));
  if (onPrimary < AA) {
    problems.push(`branding.primaryColor ${b.primaryColor}: button text contrast ${onPrimary.toFixed(2)}:1 fails WCAG AA (needs ${AA}:1)`);
  }
  return problems;
}

export function checkTenants(tenantsDir: string, options: { includeDemo: boolean }): TenantReport[] {
  if (!fs.existsSync(tenantsDir)) return [{ slug: '(TENANTS_DIR)', errors: [`folder ${tenantsDir} does not exist`], warnings: [] }];
  const reports: TenantReport[] = [];
  for (const entry of fs.readdirSync(tenantsDir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory() || entry.name.startsWith('.') || entry.name.startsWith('_')) continue;
    try {
      const tenant = loadTenant(path.join(tenantsDir, entry.name));
      if (tenant.demo && !options.includeDemo) continue;
      reports.push({ slug: tenant.slug, tenant, errors: contrastProblems(tenant), warnings: [] });
    } catch (err) {
      reports.push({ slug: entry.name, errors: [(err as Error).message], warnings: [] });
    }
  }
  return reports;
}

// Owns static files: the shared CSS/JS under /assets and each tenant's own
// files (logo, favicon, background, css) under /<slug>/assets, plus the
// generated theme.css that turns tenant.json colours into CSS variables.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'koa';
import { contrastRatio, type Tenant } from '../src/tenants/index.js';

function projectRoot(): string {
  // Compiled code lives in dist/interactions; sources in interactions/.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (path.basename(dir) === 'dist') return path.dirname(dir);
    dir = path.dirname(dir);
  }
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
}

export const sharedAssetsDir = path.join(projectRoot(), 'interactions', 'assets');

const types: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** Serves root/<file> if it is a known asset type inside root; false when not found. */
export async function serveFile(ctx: Context, root: string, file: string, maxAge: number, tenantFiles = false): Promise<boolean> {
  const type = types[path.extname(file).toLowerCase()];
  if (!type || file.includes('\0')) return false;
  const full = path.resolve(root, file);
  if (!full.startsWith(path.resolve(root) + path.sep)) return false;
  if (tenantFiles && path.basename(full) === 'tenant.json') return false;
  try {
    const real = await fs.realpath(full);
    if (!real.startsWith((await fs.realpath(root)) + path.sep)) return false;
    const body = await fs.readFile(real);
    ctx.type = type;
    ctx.set('Cache-Control', `public, max-age=${maxAge}`);
    ctx.set('X-Content-Type-Options', 'nosniff');
    if (type === 'image/svg+xml') ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    ctx.body = body;
    return true;
  } catch {
    return false;
  }
}

export function tenantThemeCss(tenant: Tenant): string {
  const b = tenant.branding;
  const onPrimary = contrastRatio(b.primaryColor, '#ffffff') >= contrastRatio(b.primaryColor, '#111111') ? '#ffffff' : '#111111';
  // Links on white cards need the primary colour only if it is readable there.
  const link = contrastRatio(b.primaryColor, '#ffffff') >= 4.5 ? b.primaryColor : b.textColor;
  const lines = [
    `--primary: ${b.primaryColor};`,
    `--primary-text: ${onPrimary};`,
    `--primary-link: ${link};`,
    `--focus: ${link};`,
    `--background: ${b.backgroundColor};`,
    `--text: ${b.textColor};`,
    `--on-background: ${contrastRatio(b.backgroundColor, '#ffffff') >= contrastRatio(b.backgroundColor, '#111111') ? '#ffffff' : '#111111'};`,
  ];
  if (b.backgroundImage) lines.push(`--background-image: url("/${tenant.slug}/assets/${b.backgroundImage}");`);
  let css = `:root {\n  ${lines.join('\n  ')}\n}\n`;
  if (b.css) css += `@import url("/${tenant.slug}/assets/${b.css}");\n`;
  return css;
}

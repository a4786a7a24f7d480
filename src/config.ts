// Owns the process configuration: environment → one typed, validated Config.
// Every env var otp-idp reads is declared here and nowhere else.
import path from 'node:path';
import { z } from 'zod';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(0).max(65535);

const urlWithProtocols = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL (${protocols.map((p) => p.replace(':', '://')).join(' or ')}…)` },
  );

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_URL: urlWithProtocols(['http:', 'https:']).optional(),
  DATABASE_URL: urlWithProtocols(['postgres:', 'postgresql:']).optional(),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
    .optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  DATA_DIR: z.string().min(1).default('./data'),
  SMTP_URL: urlWithProtocols(['smtp:', 'smtps:']).optional(),
  MAIL_FROM: z.string().min(3).default('otp-idp <no-reply@localhost>'),
  TENANTS_DIR: z.string().min(1).default('./tenants'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SECRETS_KEY: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 48`)')
    .optional(),
  TRUST_PROXY: bool.default(false),
  DEMO_PORTAL: bool.optional(),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600000).default(10000),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  production: boolean;
  port: number;
  host: string;
  publicUrl: URL;
  database:
    | { kind: 'postgres'; url: string; schema: string | undefined; poolMax: number }
    | { kind: 'embedded'; dataDir: string; schema: string | undefined };
  dataDir: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  tenantsDir: string;
  logLevel: Env['LOG_LEVEL'];
  secretsKey: string | undefined;
  trustProxy: boolean;
  demoPortal: boolean;
  shutdownTimeoutMs: number;
}

/** Parses the environment; throws ConfigError with one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`${name}: ${describeIssue(issue)}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const publicUrl = new URL(e.PUBLIC_URL ?? `http://localhost:${e.PORT}`);
  if (publicUrl.pathname !== '/' || publicUrl.search || publicUrl.hash) {
    throw new ConfigError('PUBLIC_URL: must be an origin without path, query or fragment (e.g. https://id.example.com)');
  }
  const demoPortal = e.DEMO_PORTAL ?? !production;

  if (production) {
    if (publicUrl.protocol !== 'https:') throw new ConfigError('PUBLIC_URL: must be https:// when NODE_ENV=production');
    if (!e.SMTP_URL) throw new ConfigError('SMTP_URL: required when NODE_ENV=production (the dev mailbox is development only)');
    if (!e.SECRETS_KEY) throw new ConfigError('SECRETS_KEY: required when NODE_ENV=production (at least 32 random characters)');
    if (demoPortal) throw new ConfigError('DEMO_PORTAL: the demo portal is development only; unset it when NODE_ENV=production');
  }

  const dataDir = path.resolve(e.DATA_DIR);
  return {
    env: e.NODE_ENV,
    production,
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    database: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL, schema: e.DATABASE_SCHEMA, poolMax: e.DATABASE_POOL_MAX }
      : { kind: 'embedded', dataDir: path.join(dataDir, 'pglite'), schema: e.DATABASE_SCHEMA },
    dataDir,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    tenantsDir: path.resolve(e.TENANTS_DIR),
    logLevel: e.LOG_LEVEL,
    secretsKey: e.SECRETS_KEY,
    trustProxy: e.TRUST_PROXY,
    demoPortal,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return `must be one of ${(issue.values as unknown[]).join(', ')}`;
  }
  if (issue.code === 'invalid_type') return 'must be a number';
  if ((issue.code === 'too_small' || issue.code === 'too_big') && issue.origin === 'number') return `out of range (${issue.message})`;
  return issue.message;
}

/** The issuer of a tenant: PUBLIC_URL/<slug>. */
export function issuerFor(config: Config, slug: string): string {
  return new URL(`/${slug}`, config.publicUrl).href;
}

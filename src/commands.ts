// Owns the operator commands of the `otp-idp` CLI (everything but `serve`):
// argument parsing, validation and output. The same function runs in the CLI
// process and, in embedded mode, inside the running server (over its local socket).
import fs from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserInputError } from './accounts/users.js';
import { ClientInputError, type ClientInfo, type TokenEndpointAuthMethod } from './admin/clients.js';
import { migrateLatest } from './db/migrate.js';
import type { Services } from './services.js';
import { checkTenants } from './tenants/check.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const usage = `usage: otp-idp <command> [options]

  serve                                   start the server (same as npm start)
  migrate                                 apply database migrations
  clients create --tenant T --name N --redirect-uri U [--redirect-uri U2]
                 [--post-logout-redirect-uri U] [--public] [--third-party]
                 [--token-endpoint-auth-method client_secret_basic|client_secret_post]
  clients list [--tenant T]
  clients show <client_id>
  clients delete <client_id>
  clients rotate-secret <client_id>
  users add --tenant T --email E [--name N] [--type TYPE]
  users import --tenant T <file.csv>       columns: email[,name[,type]]
  users list --tenant T
  users disable --tenant T --email E
  users enable --tenant T --email E
  keys list
  keys rotate
  keys retire <kid>
  tenants list
  tenants check

  --json   machine-readable output (every command)
`;

/** Commands that never touch the database. */
export function needsDatabase(argv: string[]): boolean {
  return argv[0] !== 'tenants';
}

type Out = { lines: string[]; json?: unknown };

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean' }, ...options }, allowPositionals: true, strict: true });
    return { values: values as Record<string, unknown>, positionals };
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!);
  }
}

function required(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || !v.trim()) throw new UsageError(`--${name} is required`);
  return v;
}

function tenantOf(services: Pick<Services, 'tenants'>, values: Record<string, unknown>): string {
  const slug = required(values, 'tenant');
  if (!services.tenants.get(slug)) {
    const known = services.tenants.list().map((t) => t.slug).join(', ');
    throw new UsageError(`--tenant: unknown tenant "${slug}" (known: ${known})`);
  }
  return slug;
}

const clientJson = (c: ClientInfo) => ({
  client_id: c.clientId,
  tenant: c.tenant,
  name: c.name,
  public: c.public,
  first_party: c.firstParty,
  application_type: c.applicationType,
  redirect_uris: c.redirectUris,
  post_logout_redirect_uris: c.postLogoutRedirectUris,
  grant_types: c.grantTypes,
  token_endpoint_auth_method: c.tokenEndpointAuthMethod,
  created_at: c.createdAt.toISOString(),
});

async function findClient(services: Services, clientId: string | undefined, tenant?: string) {
  if (!clientId) throw new UsageError('a client_id is required');
  const all = await services.clients.list(tenant);
  const found = all.find((c) => c.clientId === clientId);
  if (!found) throw new NotFound(`no client "${clientId}"`);
  return found;
}

class NotFound extends Error {}

async function clientsCommand(services: Services, sub: string | undefined, rest: string[]): Promise<Out> {
  switch (sub) {
    case 'create': {
      const { values } = parse(rest, {
        tenant: { type: 'string' },
        name: { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        'post-logout-redirect-uri': { type: 'string', multiple: true },
        public: { type: 'boolean' },
        'third-party': { type: 'boolean' },
        'token-endpoint-auth-method': { type: 'string' },
      });
      const tenant = tenantOf(services, values);
      const method = values['token-endpoint-auth-method'] as string | undefined;
      if (method && !['client_secret_basic', 'client_secret_post'].includes(method)) {
        throw new UsageError('--token-endpoint-auth-method must be client_secret_basic or client_secret_post');
      }
      const { client, clientSecret } = await services.clients.create({
        tenant,
        name: required(values, 'name'),
        redirectUris: (values['redirect-uri'] as string[] | undefined) ?? [],
        postLogoutRedirectUris: (values['post-logout-redirect-uri'] as string[] | undefined) ?? [],
        public: Boolean(values.public),
        firstParty: !values['third-party'],
        ...(method ? { tokenEndpointAuthMethod: method as TokenEndpointAuthMethod } : {}),
      });
      const json = { ...clientJson(client), ...(clientSecret ? { client_secret: clientSecret } : {}) };
      const lines = [`client_id:     ${client.clientId}`];
      if (clientSecret) lines.push(`client_secret: ${clientSecret}`, '(the secret is shown only now; store it safely)');
      lines.push(`issuer:        ${new URL(`/${tenant}`, services.config.publicUrl).href}`);
      return { lines, json };
    }
    case 'list': {
      const { values } = parse(rest, { tenant: { type: 'string' } });
      const tenant = values.tenant ? tenantOf(services, values) : undefined;
      const clients = await services.clients.list(tenant);
      return {
        json: clients.map(clientJson),
        lines: clients.length
          ? clients.map((c) => `${c.clientId}\t${c.tenant}\t${c.public ? 'public' : 'confidential'}\t${c.name}`)
          : ['no clients'],
      };
    }
    case 'show': {
      const { values, positionals } = parse(rest, { tenant: { type: 'string' } });
      const c = await findClient(services, positionals[0], values.tenant as string | undefined);
      const json = clientJson(c);
      return { json, lines: Object.entries(json).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(' ') : String(v)}`) };
    }
    case 'delete': {
      const { values, positionals } = parse(rest, { tenant: { type: 'string' } });
      const c = await findClient(services, positionals[0], values.tenant as string | undefined);
      await services.clients.delete(c.tenant, c.clientId);
      return { json: { deleted: c.clientId }, lines: [`deleted ${c.clientId} (its tokens and grants are revoked)`] };
    }
    case 'rotate-secret': {
      const { values, positionals } = parse(rest, { tenant: { type: 'string' } });
      const c = await findClient(services, positionals[0], values.tenant as string | undefined);
      const secret = await services.clients.rotateSecret(c.tenant, c.clientId);
      if (!secret) throw new UsageError(`${c.clientId} is a public client: it has no secret`);
      return {
        json: { client_id: c.clientId, client_secret: secret },
        lines: [`client_id:     ${c.clientId}`, `client_secret: ${secret}`, '(the old secret no longer works)'],
      };
    }
    default:
      throw new UsageError(`unknown command "clients ${sub ?? ''}" (create, list, show, delete, rotate-secret)`);
  }
}

/** One CSV line: simple quoted fields allowed. */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

async function usersCommand(services: Services, sub: string | undefined, rest: string[]): Promise<Out> {
  const userJson = (u: Awaited<ReturnType<Services['users']['list']>>[number]) => ({
    sub: u.id,
    tenant: u.tenant,
    email: u.email,
    name: u.name,
    type: u.userType,
    status: u.status,
    created_at: u.createdAt.toISOString(),
    last_sign_in_at: u.lastSignInAt?.toISOString() ?? null,
  });
  const checkType = (tenant: string, type: string | undefined) => {
    const types = services.tenants.get(tenant)!.userTypes;
    if (type && !(type in types)) throw new UsageError(`--type: unknown user type "${type}" (known: ${Object.keys(types).join(', ')})`);
  };
  switch (sub) {
    case 'add': {
      const { values } = parse(rest, { tenant: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' }, type: { type: 'string' } });
      const tenant = tenantOf(services, values);
      checkType(tenant, values.type as string | undefined);
      const { user, created } = await services.users.add({
        tenant,
        email: required(values, 'email'),
        name: values.name as string | undefined,
        userType: values.type as string | undefined,
      });
      return { json: { ...userJson(user), created }, lines: [`${created ? 'added' : 'exists'} ${user.email} (sub ${user.id}, type ${user.userType})`] };
    }
    case 'import': {
      const { values, positionals } = parse(rest, { tenant: { type: 'string' } });
      const tenant = tenantOf(services, values);
      const file = positionals[0];
      if (!file) throw new UsageError('a CSV file is required (columns: email[,name[,type]])');
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch {
        throw new UsageError(`cannot read ${file}`);
      }
      const rows = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      if (rows[0] && /^email\b/i.test(rows[0])) rows.shift();
      let added = 0;
      let existing = 0;
      const errors: string[] = [];
      for (const [i, row] of rows.entries()) {
        const [email = '', name, type] = csvFields(row);
        try {
          checkType(tenant, type || undefined);
          const { created } = await services.users.add({ tenant, email, name: name || undefined, userType: type || undefined });
          if (created) added++;
          else existing++;
        } catch (err) {
          errors.push(`line ${i + 1}: ${(err as Error).message}`);
        }
      }
      return { json: { added, existing, errors }, lines: [`added ${added}, already present ${existing}, rejected ${errors.length}`, ...errors] };
    }
    case 'list': {
      const { values } = parse(rest, { tenant: { type: 'string' } });
      const users = await services.users.list(tenantOf(services, values));
      return { json: users.map(userJson), lines: users.length ? users.map((u) => `${u.email}\t${u.userType}\t${u.status}\t${u.id}`) : ['no users'] };
    }
    case 'disable':
    case 'enable': {
      const { values } = parse(rest, { tenant: { type: 'string' }, email: { type: 'string' } });
      const tenant = tenantOf(services, values);
      const email = required(values, 'email');
      const status = sub === 'disable' ? 'disabled' : 'active';
      if (!(await services.users.setStatus(tenant, email, status))) throw new NotFound(`no user ${email} in ${tenant}`);
      return { json: { email, status }, lines: [`${email}: ${status}`] };
    }
    default:
      throw new UsageError(`unknown command "users ${sub ?? ''}" (add, import, list, disable, enable)`);
  }
}

async function keysCommand(services: Services, sub: string | undefined, rest: string[]): Promise<Out> {
  const { positionals } = parse(rest, {});
  switch (sub) {
    case 'list': {
      const keys = await services.keys.list();
      return {
        json: keys.map((k) => ({ kid: k.kid, alg: k.alg, status: k.status, signing: k.signing, created_at: k.createdAt.toISOString(), retired_at: k.retiredAt?.toISOString() ?? null })),
        lines: keys.map((k) => `${k.kid}\t${k.alg}\t${k.signing ? 'signing' : k.status === 'active' ? 'published' : 'retired'}\t${k.createdAt.toISOString()}`),
      };
    }
    case 'rotate': {
      const kids = await services.keys.rotate();
      await services.providers.refreshKeys();
      return { json: { signing: kids }, lines: [`new signing keys: ${kids.join(', ')}`, 'previous keys stay published until `otp-idp keys retire <kid>`'] };
    }
    case 'retire': {
      const kid = positionals[0];
      if (!kid) throw new UsageError('a kid is required (see `otp-idp keys list`)');
      const result = await services.keys.retire(kid);
      if (result === 'unknown') throw new NotFound(`no published key "${kid}"`);
      if (result === 'signing') throw new UsageError(`${kid} is the current signing key: rotate first`);
      await services.providers.refreshKeys();
      return { json: { retired: kid }, lines: [`retired ${kid}: it is no longer in JWKS`] };
    }
    default:
      throw new UsageError(`unknown command "keys ${sub ?? ''}" (list, rotate, retire)`);
  }
}

function tenantsCommand(services: Pick<Services, 'config'>, sub: string | undefined, rest: string[]): Out & { code?: number } {
  parse(rest, {});
  const report = checkTenants(services.config.tenantsDir, { includeDemo: services.config.demoPortal });
  switch (sub) {
    case 'list':
      return {
        json: report.map((r) => ({ slug: r.slug, name: r.tenant?.name ?? null, ok: r.errors.length === 0 })),
        lines: report.map((r) => `${r.slug}\t${r.tenant?.name ?? '(invalid)'}\t${r.errors.length ? 'INVALID' : 'ok'}`),
        code: 0,
      };
    case 'check': {
      const bad = report.some((r) => r.errors.length > 0);
      return {
        json: report.map((r) => ({ slug: r.slug, errors: r.errors, warnings: r.warnings })),
        lines: report.flatMap((r) => [
          `${r.slug}: ${r.errors.length ? 'INVALID' : 'ok'}`,
          ...r.errors.map((e) => `  error: ${e}`),
          ...r.warnings.map((w) => `  warning: ${w}`),
        ]),
        code: bad ? 1 : 0,
      };
    }
    default:
      throw new UsageError(`unknown command "tenants ${sub ?? ''}" (list, check)`);
  }
}

export async function runCommand(services: Services | Pick<Services, 'config'>, argv: string[]): Promise<CommandResult> {
  const [group, sub, ...rest] = argv;
  const json = argv.includes('--json');
  try {
    let out: Out & { code?: number };
    if (group === 'tenants') out = tenantsCommand(services, sub, rest);
    else {
      const s = services as Services;
      if (!('db' in services)) throw new Error('database not open');
      switch (group) {
        case 'migrate': {
          const ran = await migrateLatest(s.db, s.config.database);
          out = { json: { applied: ran }, lines: [ran.length ? `applied: ${ran.join(', ')}` : 'migrations are current'] };
          break;
        }
        case 'clients':
          out = await clientsCommand(s, sub, rest);
          break;
        case 'users':
          out = await usersCommand(s, sub, rest);
          break;
        case 'keys':
          out = await keysCommand(s, sub, rest);
          break;
        default:
          throw new UsageError(group ? `unknown command "${group}"` : 'no command given');
      }
    }
    const stdout = json ? JSON.stringify(out.json ?? null, null, 2) + '\n' : out.lines.join('\n') + '\n';
    return { code: out.code ?? 0, stdout, stderr: '' };
  } catch (err) {
    if (err instanceof UsageError || err instanceof ClientInputError || err instanceof UserInputError) {
      return { code: 2, stdout: '', stderr: `otp-idp: ${err.message}\n` };
    }
    if (err instanceof NotFound) return { code: 1, stdout: '', stderr: `otp-idp: ${err.message}\n` };
    throw err;
  }
}

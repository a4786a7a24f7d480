// The operator CLI without a running server: users (add, import, list,
// disable), tenants (list, check incl. WCAG contrast), --json output.
import fs from 'node:fs';
import path from 'node:path';
import { createTestEnv, tempDir, tenantsDir, type TestEnv } from '../helpers/env.js';
import { cliJson, runCli } from '../helpers/process.js';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => env?.cleanup());

test('users add is idempotent per normalised email and gives a stable sub', async () => {
  const a = await cliJson<{ sub: string; created: boolean }>(['users', 'add', '--tenant', 'acme', '--email', ' Piet@Acme.Example ', '--name', 'Piet'], env.vars);
  const b = await cliJson<{ sub: string; created: boolean }>(['users', 'add', '--tenant', 'acme', '--email', 'piet@acme.example'], env.vars);
  expect(a.created).toBe(true);
  expect(b.created).toBe(false);
  expect(b.sub).toBe(a.sub);
  const bad = await runCli(['users', 'add', '--tenant', 'acme', '--email', 'not-an-email'], env.vars);
  expect(bad.code).toBe(2);
  expect(bad.stderr.trim()).toBe('otp-idp: "not-an-email" is not an email address');
  const type = await runCli(['users', 'add', '--tenant', 'acme', '--email', 'x@acme.example', '--type', 'wizard'], env.vars);
  expect(type.code).toBe(2);
  expect(type.stderr).toMatch(/unknown user type "wizard" \(known: standard, finance\)/);
});

test('users import reads CSV, reports rejected lines, and users list/disable work', async () => {
  const file = path.join(tempDir(), 'users.csv');
  fs.writeFileSync(file, 'email,name,type\nann@acme.example,"Ann, A.",finance\nbob@acme.example,Bob\nbroken\nann@acme.example,Ann again\n');
  const result = await cliJson<{ added: number; existing: number; errors: string[] }>(['users', 'import', '--tenant', 'acme', file], env.vars);
  expect(result.added).toBe(2);
  expect(result.existing).toBe(1);
  expect(result.errors).toEqual(['line 3: "broken" is not an email address']);
  const list = await cliJson<Array<{ email: string; name: string; type: string; status: string }>>(['users', 'list', '--tenant', 'acme'], env.vars);
  expect(list.find((u) => u.email === 'ann@acme.example')).toMatchObject({ name: 'Ann, A.', type: 'finance', status: 'active' });
  await cliJson(['users', 'disable', '--tenant', 'acme', '--email', 'bob@acme.example'], env.vars);
  const after = await cliJson<Array<{ email: string; status: string }>>(['users', 'list', '--tenant', 'acme'], env.vars);
  expect(after.find((u) => u.email === 'bob@acme.example')?.status).toBe('disabled');
  expect((await runCli(['users', 'disable', '--tenant', 'acme', '--email', 'nobody@acme.example'], env.vars)).code).toBe(1);
});

test('tenants list and check: the shipped tenants are valid', async () => {
  const list = await cliJson<Array<{ slug: string; ok: boolean }>>(['tenants', 'list'], env.vars);
  expect(list).toEqual([
    { slug: 'acme', name: 'Acme Employee Portal', ok: true },
    { slug: 'demo', name: 'Demo Portal', ok: true },
  ]);
  const check = await runCli(['tenants', 'check'], env.vars);
  expect(check.code).toBe(0);
  expect(check.stdout).toBe('acme: ok\ndemo: ok\n');
});

test('tenants check reports a colour that fails WCAG AA contrast, and every broken tenant at once', async () => {
  const dir = tempDir('otp-idp-tenants-');
  fs.cpSync(tenantsDir, dir, { recursive: true });
  const acme = path.join(dir, 'acme', 'tenant.json');
  const json = JSON.parse(fs.readFileSync(acme, 'utf8'));
  json.branding.textColor = '#aaaaaa';
  fs.writeFileSync(acme, JSON.stringify(json));
  fs.writeFileSync(path.join(dir, 'demo', 'tenant.json'), '{ "name": "Demo", ');
  const check = await runCli(['tenants', 'check', '--json'], { ...env.vars, TENANTS_DIR: dir });
  expect(check.code).toBe(1);
  const report = JSON.parse(check.stdout) as Array<{ slug: string; errors: string[] }>;
  expect(report.find((r) => r.slug === 'acme')!.errors).toEqual([
    'branding.textColor #aaaaaa on the white card #ffffff: contrast 2.32:1 fails WCAG AA (needs 4.5:1)',
  ]);
  expect(report.find((r) => r.slug === 'demo')!.errors[0]).toMatch(/demo\/tenant\.json: .*JSON/);
});

import { ConfigError, issuerFor, loadConfig } from '../../src/config.js';

test('defaults: port 3000, issuer PUBLIC_URL/<slug>, embedded database, dev mailbox', () => {
  const c = loadConfig({});
  expect(c.port).toBe(3000);
  expect(issuerFor(c, 'demo')).toBe('http://localhost:3000/demo');
  expect(c.database.kind).toBe('embedded');
  expect(c.smtpUrl).toBeUndefined();
  expect(c.demoPortal).toBe(true);
});

test('DATABASE_URL selects Postgres', () => {
  const c = loadConfig({ DATABASE_URL: 'postgres://u@db:5432/idp' });
  expect(c.database).toMatchObject({ kind: 'postgres', url: 'postgres://u@db:5432/idp' });
});

test.each([
  [{ PORT: '70000' }, /^PORT: out of range/],
  [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL: must be a URL \(postgres:\/\/ or postgresql:\/\/…\)/],
  [{ PUBLIC_URL: 'https://id.example.com/base' }, /^PUBLIC_URL: must be an origin/],
  [{ SECRETS_KEY: 'short' }, /^SECRETS_KEY: must be at least 32 characters/],
  [{ TRUST_PROXY: 'maybe' }, /^TRUST_PROXY: must be one of/],
  [{ NODE_ENV: 'production', PUBLIC_URL: 'https://id.example.com', SMTP_URL: 'smtp://mail:25' }, /^SECRETS_KEY: required/],
  [
    { NODE_ENV: 'production', PUBLIC_URL: 'https://id.example.com', SMTP_URL: 'smtp://mail:25', SECRETS_KEY: 'x'.repeat(40), DEMO_PORTAL: 'true' },
    /^DEMO_PORTAL: the demo portal is development only/,
  ],
])('rejects %j', (env, message) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(message);
});

test('a complete production config is accepted and turns the demo portal off', () => {
  const c = loadConfig({ NODE_ENV: 'production', PUBLIC_URL: 'https://id.example.com', SMTP_URL: 'smtp://mail:25', SECRETS_KEY: 'x'.repeat(40) });
  expect(c.production).toBe(true);
  expect(c.demoPortal).toBe(false);
});

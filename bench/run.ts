// `npm run bench`: throughput and latency of the hot paths, measured side by
// side in one run on embedded PGlite and on PostgreSQL (when reachable), so the
// report is a ratio on the same machine at the same moment. Loopback only;
// every loop is bounded in count and time.
import pg from 'pg';
import * as oidc from 'openid-client';
import { Agent } from '../test/helpers/browserless.js';
import { createTestEnv, type TestEnv } from '../test/helpers/env.js';
import { cliJson, startServer, type ServerProcess } from '../test/helpers/process.js';
import { codeFromSubject, startSmtp, type SmtpCapture } from '../test/helpers/smtp.js';
import { pkceAuthorization, relyingParty } from '../test/helpers/oidc.js';

const POSTGRES_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const CB = 'https://portal.example.com/cb';

interface Result {
  name: string;
  engine: string;
  ops: number;
  seconds: number;
  p50: number;
  p95: number;
}

async function measure(name: string, engine: string, total: number, concurrency: number, op: (i: number) => Promise<void>, maxSeconds = 60): Promise<Result> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total && performance.now() < deadline) {
        const i = next++;
        const t0 = performance.now();
        await op(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return { name, engine, ops: latencies.length, seconds, p50: pct(0.5), p95: pct(0.95) };
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

async function benchEngine(engine: 'embedded' | 'postgres', smtp: SmtpCapture): Promise<Result[]> {
  const env: TestEnv = await createTestEnv({ SMTP_URL: smtp.url, LOG_LEVEL: 'info', TRUST_PROXY: 'true' }, engine === 'postgres' ? POSTGRES_URL : undefined);
  let server: ServerProcess | undefined;
  try {
    server = await startServer(env.vars);
    const base = server.url;
    const client = await cliJson<{ client_id: string; client_secret: string }>(
      ['clients', 'create', '--tenant', 'demo', '--name', 'Bench', '--redirect-uri', CB],
      env.vars,
    );
    const users = Math.ceil(40 * SCALE);
    for (let i = 0; i < users; i++) await cliJson(['users', 'add', '--tenant', 'demo', '--email', `bench-${engine}-${i}@example.com`], env.vars);
    const config = await relyingParty(`${base}/demo`, client);
    const results: Result[] = [];
    results.push(
      await measure('discovery', engine, Math.ceil(2000 * SCALE), 8, async () => {
        const r = await fetch(`${base}/demo/.well-known/openid-configuration`);
        await r.arrayBuffer();
      }),
    );
    const tokens: string[] = [];
    results.push(
      await measure('client_credentials token', engine, Math.ceil(600 * SCALE), 8, async () => {
        tokens.push((await oidc.clientCredentialsGrant(config, {})).access_token);
      }),
    );
    results.push(
      await measure('introspection', engine, Math.ceil(600 * SCALE), 8, async (i) => {
        await oidc.tokenIntrospection(config, tokens[i % tokens.length]!);
      }),
    );
    results.push(
      await measure('full sign-in (4 steps + code exchange)', engine, users, 4, async (i) => {
        const email = `bench-${engine}-${i}@example.com`;
        const { url, verifier, state } = await pkceAuthorization(config, CB);
        // Users come from many addresses (through a proxy): the per-IP send cap is not what is measured.
        const agent = new Agent({ 'x-forwarded-for': `198.51.100.${i % 250}` });
        const page = await agent.go(url);
        const send = await agent.submit(page, 'Sign in', { email });
        const code = await agent.submit(send, 'Send verification code');
        const mail = await smtp.waitFor((m) => m.to.includes(email), 20000);
        const signedIn = await agent.submit(code, 'Verify code', { code: codeFromSubject(mail)! });
        const back = await agent.submit(signedIn, 'Continue', {}, base);
        await oidc.authorizationCodeGrant(config, new URL(back.url), { pkceCodeVerifier: verifier, expectedState: state });
      }),
    );
    // Same timing for unknown emails: the "Send verification code" step, known and
    // unknown addresses interleaved, one at a time.
    const pairs = Math.ceil(60 * SCALE);
    for (let i = 0; i < pairs; i++) await cliJson(['users', 'add', '--tenant', 'demo', '--email', `timing-${engine}-${i}@example.com`], env.vars);
    const sendTimes: Record<'known' | 'unknown', number[]> = { known: [], unknown: [] };
    for (let i = 0; i < pairs * 2; i++) {
      const kind = i % 2 === 0 ? 'known' : 'unknown';
      const email = kind === 'known' ? `timing-${engine}-${i >> 1}@example.com` : `nobody-${engine}-${i >> 1}@example.com`;
      const { url } = await pkceAuthorization(config, CB);
      const agent = new Agent({ 'x-forwarded-for': `203.0.113.${i % 250}` });
      const send = await agent.submit(await agent.go(url), 'Sign in', { email });
      const csrf = /name="csrf" value="([^"]+)"/.exec(send.html)![1]!;
      const action = new URL(/action="([^"]+\/send)"/.exec(send.html)![1]!, base).href;
      const t0 = performance.now();
      const res = await agent.request(action, { form: { csrf } });
      sendTimes[kind].push(performance.now() - t0);
      if (res.status !== 303) throw new Error(`send step answered ${res.status}`);
    }
    for (const kind of ['known', 'unknown'] as const) {
      const sorted = sendTimes[kind].sort((a, b) => a - b);
      const total = sorted.reduce((a, b) => a + b, 0) / 1000;
      results.push({ name: `send code step, ${kind} email`, engine, ops: sorted.length, seconds: total, p50: sorted[sorted.length >> 1]!, p95: sorted[Math.floor(sorted.length * 0.95)]! });
    }
    return results;
  } finally {
    await server?.stop();
    await env.cleanup();
  }
}

async function main() {
  const smtp = await startSmtp();
  const engines: Array<'embedded' | 'postgres'> = ['embedded'];
  if (await postgresReachable()) engines.push('postgres');
  else console.log(`(PostgreSQL at ${POSTGRES_URL} not reachable: embedded only)`);
  const all: Result[] = [];
  for (const engine of engines) all.push(...(await benchEngine(engine, smtp)));
  await smtp.close();

  const rows = all.map((r) => ({
    benchmark: r.name,
    engine: r.engine,
    ops: r.ops,
    'ops/s': (r.ops / r.seconds).toFixed(1),
    'p50 ms': r.p50.toFixed(1),
    'p95 ms': r.p95.toFixed(1),
  }));
  console.table(rows);
  for (const engine of engines) {
    const known = all.find((r) => r.engine === engine && r.name === 'send code step, known email')!;
    const unknown = all.find((r) => r.engine === engine && r.name === 'send code step, unknown email')!;
    console.log(`${engine}: send step p50 unknown/known = ${(unknown.p50 / known.p50).toFixed(2)} (1.00 = same timing)`);
  }
  if (engines.length === 2) {
    console.log('postgres / embedded throughput ratio (same run):');
    for (const r of all.filter((x) => x.engine === 'embedded')) {
      const p = all.find((x) => x.engine === 'postgres' && x.name === r.name)!;
      console.log(`  ${r.name}: ${(p.ops / p.seconds / (r.ops / r.seconds)).toFixed(2)}x`);
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

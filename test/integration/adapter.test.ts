// Contract of the oidc-provider adapter on the engine under test (PGlite or
// Postgres): every method, expiry, consumption, grant revocation, tenant isolation.
import { ManualClock } from '../../src/clock.js';
import { createAdapterClass, purgeExpired } from '../../src/db/adapter.js';
import { createDb, type Db } from '../../src/db/knex.js';
import { migrateLatest, migrationsCurrent } from '../../src/db/migrate.js';
import { createTestEnv, databaseOf, type TestEnv } from '../helpers/env.js';

let env: TestEnv;
let db: Db;
const clock = new ManualClock(new Date('2026-06-01T12:00:00Z'));
const noClients = { findClient: async () => undefined };

beforeAll(async () => {
  env = await createTestEnv();
  const database = databaseOf(env);
  db = createDb(database);
  await migrateLatest(db, database);
});

afterAll(async () => {
  await db?.destroy();
  await env?.cleanup();
});

const Adapter = (kind: string, tenant = 'demo') => new (createAdapterClass(db, tenant, noClients, clock))(kind);

test('migrations are current after migrateLatest, and a second run applies nothing', async () => {
  expect(await migrationsCurrent(db)).toBe(true);
  expect(await migrateLatest(db, databaseOf(env))).toEqual([]);
});

test('upsert then find returns the payload; upsert again replaces it', async () => {
  const a = Adapter('Session');
  await a.upsert('s1', { accountId: 'u1', uid: 'uid-1', extra: { nested: [1, 2] } } as never, 60);
  expect(await a.find('s1')).toEqual({ accountId: 'u1', uid: 'uid-1', extra: { nested: [1, 2] } });
  await a.upsert('s1', { accountId: 'u2', uid: 'uid-1' } as never, 60);
  expect(await a.find('s1')).toEqual({ accountId: 'u2', uid: 'uid-1' });
  expect(await a.find('nope')).toBeUndefined();
});

test('find returns nothing once expiresIn has passed', async () => {
  const a = Adapter('AccessToken');
  await a.upsert('t-exp', { grantId: 'g-exp' } as never, 30);
  clock.advance(29);
  expect(await a.find('t-exp')).toBeDefined();
  clock.advance(2);
  expect(await a.find('t-exp')).toBeUndefined();
});

test('findByUid and findByUserCode', async () => {
  const s = Adapter('Session');
  await s.upsert('s-uid', { uid: 'the-uid' } as never, 60);
  expect(await s.findByUid('the-uid')).toEqual({ uid: 'the-uid' });
  expect(await s.findByUid('other')).toBeUndefined();
  const d = Adapter('DeviceCode');
  await d.upsert('d1', { userCode: 'ABCD-EFGH' } as never, 60);
  expect(await d.findByUserCode('ABCD-EFGH')).toEqual({ userCode: 'ABCD-EFGH' });
});

test('consume marks the item consumed; find then reports it', async () => {
  const a = Adapter('AuthorizationCode');
  await a.upsert('c1', { grantId: 'g1' } as never, 60);
  expect((await a.find('c1'))?.consumed).toBeUndefined();
  await a.consume('c1');
  const found = await a.find('c1');
  expect(found?.consumed).toBeTruthy();
  expect(found?.grantId).toBe('g1');
});

test('destroy removes one item', async () => {
  const a = Adapter('Interaction');
  await a.upsert('i1', {} as never, 60);
  await a.destroy('i1');
  expect(await a.find('i1')).toBeUndefined();
});

test('revokeByGrantId removes every model of that grant, and only that grant', async () => {
  await Adapter('AccessToken').upsert('at-g', { grantId: 'grant-x' } as never, 60);
  await Adapter('RefreshToken').upsert('rt-g', { grantId: 'grant-x' } as never, 60);
  await Adapter('AccessToken').upsert('at-other', { grantId: 'grant-y' } as never, 60);
  await Adapter('AccessToken').revokeByGrantId('grant-x');
  expect(await Adapter('AccessToken').find('at-g')).toBeUndefined();
  expect(await Adapter('RefreshToken').find('rt-g')).toBeUndefined();
  expect(await Adapter('AccessToken').find('at-other')).toBeDefined();
});

test('tenants never see each other\'s models', async () => {
  await Adapter('Session', 'demo').upsert('shared-id', { accountId: 'demo-user' } as never, 60);
  expect(await Adapter('Session', 'acme').find('shared-id')).toBeUndefined();
  await Adapter('Session', 'acme').upsert('shared-id', { accountId: 'acme-user' } as never, 60);
  expect((await Adapter('Session', 'demo').find('shared-id'))?.accountId).toBe('demo-user');
});

test('purgeExpired deletes expired rows in batches and keeps live ones', async () => {
  const a = Adapter('AccessToken');
  for (let i = 0; i < 25; i++) await a.upsert(`purge-${i}`, {} as never, 10);
  await a.upsert('purge-live', {} as never, 3600);
  clock.advance(11);
  const deleted = await purgeExpired(db, clock, 10, 100);
  expect(deleted).toBeGreaterThanOrEqual(25);
  const left = await db('oidc_models').where('id', 'like', 'purge-%').pluck('id');
  expect(left).toEqual(['purge-live']);
});

// The foundation schema: oidc-provider models, signing keys, server secrets,
// clients, users, one-time codes, counters, the mail outbox and audit events.
import type { Knex } from 'knex';

export const name = '20261203_0001_foundation';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('oidc_models', (t) => {
    t.text('tenant').notNullable();
    t.text('kind').notNullable();
    t.text('id').notNullable();
    t.jsonb('payload').notNullable();
    t.text('grant_id');
    t.text('uid');
    t.text('user_code');
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('consumed_at', { useTz: true });
    t.primary(['tenant', 'kind', 'id']);
    t.index(['tenant', 'grant_id']);
    t.index(['tenant', 'uid']);
    t.index(['tenant', 'user_code']);
    t.index(['expires_at']);
  });

  await knex.schema.createTable('signing_keys', (t) => {
    t.text('kid').primary();
    t.text('alg').notNullable();
    t.text('status').notNullable(); // active | retired
    t.text('private_jwk_sealed').notNullable();
    t.jsonb('public_jwk').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('retired_at', { useTz: true });
    t.index(['status', 'alg', 'created_at']);
  });

  await knex.schema.createTable('server_secrets', (t) => {
    t.text('name').primary();
    t.text('value_sealed').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('clients', (t) => {
    t.text('tenant').notNullable();
    t.text('client_id').notNullable();
    t.text('name').notNullable();
    t.jsonb('metadata').notNullable();
    t.text('secret_sealed');
    t.boolean('first_party').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.primary(['tenant', 'client_id']);
  });

  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary();
    t.text('tenant').notNullable();
    t.text('email').notNullable();
    t.text('email_normalized').notNullable();
    t.text('name');
    t.text('user_type').notNullable().defaultTo('standard');
    t.text('status').notNullable().defaultTo('active'); // active | disabled
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.timestamp('last_sign_in_at', { useTz: true });
    t.unique(['tenant', 'email_normalized']);
  });

  await knex.schema.createTable('otp_challenges', (t) => {
    t.text('id').primary();
    t.text('tenant').notNullable();
    t.text('interaction_uid').notNullable();
    t.text('email_normalized').notNullable();
    t.uuid('user_id');
    t.text('code_hmac');
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('max_attempts').notNullable();
    t.text('status').notNullable(); // pending | verified | superseded | exhausted
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('finished_at', { useTz: true });
    t.index(['tenant', 'interaction_uid']);
    t.index(['tenant', 'email_normalized', 'created_at']);
    t.index(['expires_at']);
  });

  await knex.schema.createTable('counters', (t) => {
    t.text('key').primary();
    t.integer('count').notNullable();
    t.timestamp('window_started_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('blocked_until', { useTz: true });
    t.index(['expires_at']);
  });

  await knex.schema.createTable('mail_outbox', (t) => {
    t.bigIncrements('id').primary();
    t.text('tenant').notNullable();
    t.text('purpose').notNullable();
    t.text('to_address').notNullable();
    t.text('subject');
    t.text('text_body');
    t.text('html_body');
    t.text('status').notNullable(); // pending | sent | dead
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable();
    t.timestamp('locked_until', { useTz: true });
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('sent_at', { useTz: true });
    t.index(['status', 'next_attempt_at']);
  });

  await knex.schema.createTable('dev_mailbox', (t) => {
    t.bigIncrements('id').primary();
    t.text('tenant').notNullable();
    t.text('to_address').notNullable();
    t.text('from_address').notNullable();
    t.text('subject').notNullable();
    t.text('text_body').notNullable();
    t.text('html_body');
    t.timestamp('created_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('id').primary();
    t.text('tenant');
    t.text('type').notNullable();
    t.uuid('user_id');
    t.text('ip');
    t.jsonb('detail');
    t.timestamp('at', { useTz: true }).notNullable();
    t.index(['tenant', 'at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'audit_events', 'dev_mailbox', 'mail_outbox', 'counters', 'otp_challenges',
    'users', 'clients', 'server_secrets', 'signing_keys', 'oidc_models',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}

// Where a sign-in in progress stands (email entered, code sent, code verified),
// keyed by the oidc-provider interaction, so it survives a restart and works on
// any instance. Also: the sender of each outbox message (a tenant's own name).
import type { Knex } from 'knex';

export const name = '20261203_0002_sign_in_state';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sign_in_states', (t) => {
    t.text('tenant').notNullable();
    t.text('interaction_uid').notNullable();
    t.text('client_id');
    t.text('email');
    t.text('email_normalized');
    t.text('challenge_id');
    t.uuid('verified_user_id');
    t.timestamp('verified_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.primary(['tenant', 'interaction_uid']);
    t.index(['expires_at']);
  });
  await knex.schema.alterTable('mail_outbox', (t) => {
    t.text('from_address');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('mail_outbox', (t) => {
    t.dropColumn('from_address');
  });
  await knex.schema.dropTableIfExists('sign_in_states');
}

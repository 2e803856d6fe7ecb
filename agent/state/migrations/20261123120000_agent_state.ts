import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('deployments', (t) => {
    t.increments('id').primary();
    t.string('from_version', 64).nullable();
    t.string('to_version', 64).notNullable();
    t.string('commit', 64).nullable();
    /** switch, rollback, auto-rollback, repair */
    t.string('kind', 16).notNullable();
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('finished_at', { useTz: true }).nullable();
    /** null while in progress; then succeeded, failed, rolled-back, abandoned */
    t.string('outcome', 16).nullable();
    t.string('reason', 1000).nullable();
  });
  await knex.schema.createTable('failed_versions', (t) => {
    t.string('version', 64).primary();
    t.string('reason', 1000).notNullable();
    t.timestamp('failed_at', { useTz: true }).notNullable();
  });
  await knex.schema.createTable('agent_settings', (t) => {
    t.string('key', 64).primary();
    t.string('value', 1000).notNullable();
  });
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}

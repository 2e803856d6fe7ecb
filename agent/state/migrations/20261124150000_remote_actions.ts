import type { Knex } from 'knex';

/**
 * Remote actions this device recorded (agent/state/action-ledger.ts): one row per action id,
 * written before the action runs, so an id is never run twice. Expand-only: a new table that
 * an older agent ignores.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('remote_actions', (t) => {
    t.string('action_id', 64).primary();
    /** restart-app, health-check, diagnostics */
    t.string('kind', 32).notNullable();
    /** started (in progress), then succeeded, failed or interrupted */
    t.string('state', 16).notNullable();
    t.text('detail').nullable();
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('finished_at', { useTz: true }).nullable();
    /** The state last copied to the central database; null: never copied. */
    t.string('reported', 16).nullable();
  });
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}

import type { Knex } from 'knex';

/**
 * One row per remote action per device (see README, "Remote actions"): what it was, how it
 * ended, and its detail (for diagnostics: the JSON bundle). An outcome of null: in progress.
 */
export const createActions: Knex.Migration = {
  async up(knex) {
    await knex.schema.createTable('ota_actions', (t) => {
      t.string('device_id', 64).notNullable();
      t.string('action_id', 64).notNullable();
      t.string('action', 32).notNullable();
      /** null while it runs; then succeeded, failed or interrupted */
      t.string('outcome', 16).nullable();
      t.text('detail').nullable();
      t.timestamp('started_at', { useTz: true }).notNullable();
      t.timestamp('finished_at', { useTz: true }).nullable();
      t.primary(['device_id', 'action_id']);
    });
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};

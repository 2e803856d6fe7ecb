import type { Knex } from 'knex';

/**
 * One row per release that has halt criteria, upserted by every agent that evaluates them:
 * the rule as the agent parsed it, the counts it saw, and when the rollout halted. Read by the
 * fleet view and the console; the agents read `halted_at` back, so a halt stays once set.
 */
export const createRollouts: Knex.Migration = {
  async up(knex) {
    await knex.schema.createTable('ota_rollouts', (t) => {
      t.string('version', 64).primary();
      t.text('policy').notNullable();
      t.integer('tried').notNullable();
      t.integer('failed').notNullable();
      t.timestamp('halted_at', { useTz: true }).nullable();
      t.string('halt_reason', 200).nullable();
      t.timestamp('updated_at', { useTz: true }).notNullable();
      t.string('updated_by', 64).notNullable();
    });
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};

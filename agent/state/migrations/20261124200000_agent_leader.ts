import type { Knex } from 'knex';

/**
 * Which agent container is in charge of this device (agent/self/leader-lease.ts), and the
 * hand-over to a new agent in progress. One row. Two agents share the state volume during a
 * self-update; only the holder changes the app. Expand-only: a new table an older agent ignores.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('agent_leader', (t) => {
    t.integer('id').primary();
    /** The container id of the agent in charge. */
    t.string('container', 64).notNullable();
    t.timestamp('since', { useTz: true }).notNullable();
    /** The hand-over in progress (JSON, agent/self/handover-record.ts), or null. */
    t.text('handover').nullable();
  });
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}

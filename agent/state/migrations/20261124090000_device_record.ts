import type { Knex } from 'knex';
import { emptyRecord, GOOD_KEPT } from '../device-record.js';

/**
 * The device record (one row, a JSON document) that every decision reads. Expand-only: the
 * older tables stay; the record is seeded from them once. `running` is left empty: the agent
 * adopts what the engine runs at its next start (it knows the image, the old tables do not).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('device_record', (t) => {
    t.integer('id').primary();
    t.text('doc').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });
  const failed: { version: string; reason: string }[] = await knex('failed_versions').select();
  const pinned = await knex('agent_settings').where({ key: 'pinned' }).first();
  const succeeded: { to_version: string }[] = await knex('deployments')
    .where({ outcome: 'succeeded' })
    .orderBy('id', 'desc')
    .select('to_version');
  const good = [...new Set(succeeded.map((r) => r.to_version))].slice(0, GOOD_KEPT);
  const record = {
    ...emptyRecord(),
    good,
    failed: Object.fromEntries(failed.map((f) => [f.version, f.reason])),
    pinned: pinned?.value ?? null,
  };
  await knex('device_record').insert({
    id: 1,
    doc: JSON.stringify(record),
    updated_at: new Date(),
  });
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}

import type { Knex } from 'knex';
import { sharedMigrations } from '../../common/migration-source.js';
import { createActions } from './actions-migration.js';
import { createRollouts } from './rollouts-migration.js';

// The agent's table in the central database, next to the app's devices and readings, so one
// query shows which device runs which version and how each rollout went there.
const createDeployments: Knex.Migration = {
  async up(knex) {
    await knex.schema.createTable('ota_deployments', (t) => {
      t.string('device_id', 64).notNullable();
      t.integer('local_id').notNullable();
      t.string('from_version', 64).nullable();
      t.string('to_version', 64).notNullable();
      t.string('commit', 64).nullable();
      t.string('kind', 16).notNullable();
      t.string('outcome', 16).nullable();
      t.string('reason', 1000).nullable();
      t.timestamp('started_at', { useTz: true }).notNullable();
      t.timestamp('finished_at', { useTz: true }).nullable();
      t.primary(['device_id', 'local_id']);
    });
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};

const createDevices: Knex.Migration = {
  async up(knex) {
    await knex.schema.createTable('ota_devices', (t) => {
      t.string('device_id', 64).primary();
      t.string('groups', 500).notNullable();
      t.string('channel', 32).notNullable();
      t.string('pinned', 64).nullable();
      t.timestamp('agent_seen', { useTz: true }).notNullable();
    });
  },
  async down() {
    throw new Error('migrations are forward-only');
  },
};

// Agents of several versions report into one database, as the app does: expand-only
// migrations (new tables, nullable or defaulted columns; never a rename or a drop in the same
// release), and an older agent ignores the migrations a newer one added.
export const reporterMigrations = sharedMigrations('ota_migrations', {
  '20261123150000_ota_deployments': createDeployments,
  '20261123170000_ota_devices': createDevices,
  '20261124120000_ota_rollouts': createRollouts,
  '20261124150000_ota_actions': createActions,
});

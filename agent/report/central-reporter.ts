import type { Knex } from 'knex';
import { migrationsInCode } from '../../app/store/migration-source.js';
import type { AgentLogger } from '../log.js';
import type { Deployment } from '../state/agent-state.js';

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

export const reporterMigrations = {
  tableName: 'ota_migrations',
  migrationSource: migrationsInCode({ '20261123150000_ota_deployments': createDeployments }),
};

/**
 * Copies this device's deployment history into the central database. Best effort: the
 * device's own state is the truth; a failed sync is retried at the next one, and re-sending a
 * row only updates it.
 */
export class CentralReporter {
  private migrated = false;

  constructor(
    private readonly db: Knex,
    private readonly deviceId: string,
    private readonly log: AgentLogger,
    /** False while the database cannot be used yet (the app has not created its file). */
    private readonly ready: () => boolean = () => true,
  ) {}

  async sync(deployments: readonly Deployment[]): Promise<boolean> {
    if (!this.ready()) return false;
    try {
      if (!this.migrated) {
        await this.db.migrate.latest(reporterMigrations);
        this.migrated = true;
      }
      for (const d of deployments) {
        const key = { device_id: this.deviceId, local_id: d.id };
        const row = {
          from_version: d.from,
          to_version: d.to,
          commit: d.commit,
          kind: d.kind,
          outcome: d.outcome,
          reason: d.reason,
          started_at: new Date(d.startedAt),
          finished_at: d.finishedAt ? new Date(d.finishedAt) : null,
        };
        const updated = await this.db('ota_deployments').where(key).update(row);
        if (updated === 0) await this.db('ota_deployments').insert({ ...key, ...row });
      }
      return true;
    } catch (err) {
      this.log.warn({ err }, 'could not report deployments to the central database; will retry');
      return false;
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

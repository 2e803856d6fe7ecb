import type { Knex } from 'knex';
import { LeaderLease } from '../self/leader-lease.js';
import { ActionLedger } from './action-ledger.js';
import { clearFailed, type DeviceRecord, markFailed, parseRecord } from './device-record.js';
import { agentMigrationSource } from './migrations/index.js';

export type DeploymentKind =
  | 'switch'
  | 'rollback'
  | 'auto-rollback'
  | 'repair'
  | 'pin'
  /** The agent replacing itself with a release's agent (agent/self). */
  | 'agent-update';
export type Outcome = 'succeeded' | 'failed' | 'rolled-back' | 'abandoned';

export interface Deployment {
  readonly id: number;
  readonly from: string | null;
  readonly to: string;
  readonly commit: string | null;
  readonly kind: DeploymentKind;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly outcome: Outcome | null;
  readonly reason: string | null;
}

const iso = (value: unknown): string => new Date(value as string | number).toISOString();

/**
 * The agent's own SQLite database (on its state volume): the device record, the deployments
 * table (an audit log that is never read to decide) and the remote actions recorded.
 */
export class AgentState {
  /** Remote actions recorded on this device (same database). */
  readonly actions: ActionLedger;
  /** Which agent container is in charge, and a self-update in progress (same database). */
  readonly lease: LeaderLease;

  constructor(
    private readonly db: Knex,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.actions = new ActionLedger(db, now);
    this.lease = new LeaderLease(db, now);
  }

  /** knex settings for the state file; main.ts calls knex() with them. */
  static knexConfig(file: string): Knex.Config {
    return {
      client: 'better-sqlite3',
      connection: { filename: file },
      useNullAsDefault: true,
      // Expand-only, like the central database: an older agent (after its own rollback) runs
      // on a state file a newer one migrated, ignoring the migrations it does not know.
      migrations: {
        migrationSource: agentMigrationSource,
        tableName: 'agent_migrations',
        disableMigrationsListValidation: true,
      },
      pool: { min: 1, max: 1 },
    };
  }

  async migrate(): Promise<void> {
    await this.db.migrate.latest();
  }

  async startDeployment(d: {
    from: string | null;
    to: string;
    commit: string | null;
    kind: DeploymentKind;
  }): Promise<number> {
    const [row] = await this.db('deployments')
      .insert({
        from_version: d.from,
        to_version: d.to,
        commit: d.commit,
        kind: d.kind,
        started_at: this.now(),
      })
      .returning('id');
    return typeof row === 'object' ? (row as { id: number }).id : Number(row);
  }

  async finishDeployment(id: number, outcome: Outcome, reason?: string): Promise<void> {
    await this.db('deployments')
      .where({ id })
      .update({ outcome, reason: reason?.slice(0, 1000) ?? null, finished_at: this.now() });
  }

  /**
   * Audit rows left open by a kill between opening a row and recording the change: every open
   * row the record does not point at is closed as abandoned.
   */
  async closeOrphans(live: readonly (number | undefined)[]): Promise<void> {
    const keep = live.filter((id): id is number => id !== undefined);
    await this.db('deployments').whereNull('outcome').whereNotIn('id', keep).update({
      outcome: 'abandoned',
      reason: 'agent stopped before the change was recorded',
      finished_at: this.now(),
    });
  }

  /** The deployment left unfinished by an agent that was killed, if any. */
  async unfinished(): Promise<Deployment | undefined> {
    const row = await this.db('deployments').whereNull('outcome').orderBy('id', 'desc').first();
    return row ? toDeployment(row) : undefined;
  }

  async history(limit = 50): Promise<Deployment[]> {
    const rows = await this.db('deployments').orderBy('id', 'desc').limit(limit);
    return rows.map(toDeployment);
  }

  /** The device record: the only state the agent decides from. */
  async record(): Promise<DeviceRecord> {
    const row = await this.db('device_record').where({ id: 1 }).first();
    return parseRecord(row?.doc);
  }

  /** Writes the record ahead of the act it announces (one row, one statement: atomic). */
  async save(record: DeviceRecord): Promise<DeviceRecord> {
    const row = { doc: JSON.stringify(record), updated_at: this.now() };
    const updated = await this.db('device_record').where({ id: 1 }).update(row);
    if (updated === 0) await this.db('device_record').insert({ id: 1, ...row });
    return record;
  }

  async update(change: (r: DeviceRecord) => DeviceRecord): Promise<DeviceRecord> {
    return this.save(change(await this.record()));
  }

  async markFailed(version: string, reason: string): Promise<void> {
    await this.update((r) => markFailed(r, version, reason));
  }

  async clearFailed(version: string): Promise<boolean> {
    const before = await this.record();
    if (before.failed[version] === undefined) return false;
    await this.save(clearFailed(before, version));
    return true;
  }

  async failedVersions(): Promise<Map<string, string>> {
    return new Map(Object.entries((await this.record()).failed));
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

function toDeployment(row: Record<string, unknown>): Deployment {
  return {
    id: Number(row.id),
    from: (row.from_version as string | null) ?? null,
    to: String(row.to_version),
    commit: (row.commit as string | null) ?? null,
    kind: row.kind as DeploymentKind,
    startedAt: iso(row.started_at),
    finishedAt: row.finished_at == null ? null : iso(row.finished_at),
    outcome: (row.outcome as Outcome | null) ?? null,
    reason: (row.reason as string | null) ?? null,
  };
}

import type { Knex } from 'knex';
import { agentMigrationSource } from './migrations/index.js';

export type DeploymentKind = 'switch' | 'rollback' | 'auto-rollback' | 'repair' | 'pin';
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

/** The agent's own SQLite database (on its state volume): deployments, failed versions, pins. */
export class AgentState {
  constructor(
    private readonly db: Knex,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** knex settings for the state file; main.ts calls knex() with them. */
  static knexConfig(file: string): Knex.Config {
    return {
      client: 'better-sqlite3',
      connection: { filename: file },
      useNullAsDefault: true,
      migrations: { migrationSource: agentMigrationSource, tableName: 'agent_migrations' },
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

  /** The deployment left unfinished by an agent that was killed, if any. */
  async unfinished(): Promise<Deployment | undefined> {
    const row = await this.db('deployments').whereNull('outcome').orderBy('id', 'desc').first();
    return row ? toDeployment(row) : undefined;
  }

  async history(limit = 50): Promise<Deployment[]> {
    const rows = await this.db('deployments').orderBy('id', 'desc').limit(limit);
    return rows.map(toDeployment);
  }

  async markFailed(version: string, reason: string): Promise<void> {
    const row = { version, reason: reason.slice(0, 1000), failed_at: this.now() };
    const updated = await this.db('failed_versions').where({ version }).update(row);
    if (updated === 0) await this.db('failed_versions').insert(row);
  }

  async clearFailed(version: string): Promise<boolean> {
    return (await this.db('failed_versions').where({ version }).delete()) > 0;
  }

  async failedVersions(): Promise<Map<string, string>> {
    const rows: { version: string; reason: string }[] = await this.db('failed_versions').select();
    return new Map(rows.map((r) => [r.version, r.reason]));
  }

  async getSetting(key: string): Promise<string | undefined> {
    const row = await this.db('agent_settings').where({ key }).first();
    return row?.value;
  }

  async setSetting(key: string, value: string | undefined): Promise<void> {
    await this.db('agent_settings').where({ key }).delete();
    if (value !== undefined) await this.db('agent_settings').insert({ key, value });
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

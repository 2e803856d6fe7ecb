import type { Knex } from 'knex';

/**
 * STAND-IN, to be replaced by the agent's own migration when the halt branch lands: the
 * `ota_rollouts` table exactly as /work/briefs/contract-rollouts.md describes it (the halt
 * helper owns it; agents write it, the console only reads it). The merger swaps this for
 * `db.migrate.latest(reporterMigrations)` once that list holds '..._ota_rollouts'.
 */
export async function createOtaRolloutsTableAsContracted(db: Knex): Promise<void> {
  if (await db.schema.hasTable('ota_rollouts')) return;
  await db.schema.createTable('ota_rollouts', (t) => {
    t.string('version', 64).primary();
    t.text('policy').notNullable();
    t.integer('tried').notNullable();
    t.integer('failed').notNullable();
    t.timestamp('halted_at', { useTz: true }).nullable();
    t.string('halt_reason', 200).nullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.string('updated_by', 64).notNullable();
  });
}

export interface RolloutRecord {
  readonly version: string;
  readonly policy: Record<string, unknown>;
  readonly tried: number;
  readonly failed: number;
  readonly haltedAt?: Date;
  readonly haltReason?: string;
  readonly updatedAt: Date;
  readonly updatedBy: string;
}

/** One row as an agent would upsert it after evaluating a release. */
export async function writeRollout(db: Knex, r: RolloutRecord): Promise<void> {
  await db('ota_rollouts').insert({
    version: r.version,
    policy: JSON.stringify(r.policy),
    tried: r.tried,
    failed: r.failed,
    halted_at: r.haltedAt ?? null,
    halt_reason: r.haltReason ?? null,
    updated_at: r.updatedAt,
    updated_by: r.updatedBy,
  });
}

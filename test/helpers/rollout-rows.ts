import type { Knex } from 'knex';
import { insertRolloutQuery } from '../../agent/report/reporter-queries.js';

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

/** One `ota_rollouts` row through the agent's own statement, as an agent evaluating it writes. */
export async function writeRollout(db: Knex, r: RolloutRecord): Promise<void> {
  await insertRolloutQuery(db, r.version, {
    policy: JSON.stringify(r.policy),
    tried: r.tried,
    failed: r.failed,
    halted_at: r.haltedAt ?? null,
    halt_reason: r.haltReason ?? null,
    updated_at: r.updatedAt,
    updated_by: r.updatedBy,
  });
}

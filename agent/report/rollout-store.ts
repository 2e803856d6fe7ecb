import type { Knex } from 'knex';
import type { EvaluatedRollout, RolloutOutcome, RolloutOutcomes } from '../release/halt-check.js';
import { ruleJson } from '../release/halt-check.js';
import { type HaltCriteria, parseHaltCriteria } from '../release/halt-criteria.js';
import { reporterMigrations } from './reporter-migrations.js';
import {
  insertRolloutQuery,
  type RolloutRow,
  rolloutCountsQuery,
  rolloutHaltsQuery,
  updateRolloutQuery,
} from './reporter-queries.js';

/**
 * A poll must not hang on a half-open link to the database (it would hold back releases
 * without halt criteria too): every step here gives up after this.
 */
const READ_TIMEOUT_MS = 15_000;

function within<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`${what}: no answer from the central database in ${READ_TIMEOUT_MS} ms`)),
      READ_TIMEOUT_MS,
    );
    timer.unref();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** The halt criteria a row was written under, if its policy JSON holds valid ones. */
function recordedCriteria(policy: string | null): HaltCriteria | undefined {
  try {
    return parseHaltCriteria('ota_rollouts.policy.halt', JSON.parse(policy ?? 'null')?.halt);
  } catch {
    return undefined;
  }
}

/** The releases' outcomes and halts in the central database, for halt checks. */
export class CentralRollouts implements RolloutOutcomes {
  private migrated = false;

  constructor(
    private readonly db: Knex,
    /** False while the database cannot be used yet (the app has not created its file). */
    private readonly ready: () => boolean = () => true,
  ) {}

  async read(versions: readonly string[]): Promise<Map<string, RolloutOutcome>> {
    if (!this.ready()) throw new Error('the central database does not exist yet');
    if (!this.migrated) {
      await within(this.db.migrate.latest(reporterMigrations), 'migrating');
      this.migrated = true;
    }
    const counts = (await rolloutCountsQuery(this.db, versions).timeout(READ_TIMEOUT_MS)) as {
      to_version: string;
      tried: number | string;
      failed: number | string;
    }[];
    const halts = (await rolloutHaltsQuery(this.db, versions).timeout(READ_TIMEOUT_MS)) as {
      version: string;
      halted_at: Date | string | number;
      halt_reason: string | null;
      policy: string | null;
    }[];
    const result = new Map<string, RolloutOutcome>();
    for (const version of versions) {
      const c = counts.find((r) => r.to_version === version);
      const h = halts.find((r) => r.version === version);
      result.set(version, {
        counts: { tried: Number(c?.tried ?? 0), failed: Number(c?.failed ?? 0) },
        recorded: h && {
          haltedAt: new Date(h.halted_at),
          reason: h.halt_reason ?? 'halted',
          criteria: recordedCriteria(h.policy),
        },
      });
    }
    return result;
  }

  async record(rows: readonly EvaluatedRollout[], deviceId: string, now: Date): Promise<void> {
    for (const { version, rule, state, replacesHalt } of rows) {
      const counts = state.kind === 'unknown' ? { tried: 0, failed: 0 } : state.counts;
      const halted = state.kind === 'halted' ? state : undefined;
      const row: RolloutRow = {
        policy: ruleJson(rule),
        tried: counts.tried,
        failed: counts.failed,
        halted_at: halted?.haltedAt ?? null,
        halt_reason: halted?.reason.slice(0, 200) ?? null,
        updated_at: now,
        updated_by: deviceId,
      };
      const update = () =>
        updateRolloutQuery(this.db, version, row, replacesHalt).timeout(READ_TIMEOUT_MS);
      if ((await update()) > 0) continue;
      try {
        await insertRolloutQuery(this.db, version, row).timeout(READ_TIMEOUT_MS);
      } catch (err) {
        // Another agent inserted the row between our update and insert: update it.
        if ((await update()) === 0) throw err;
      }
    }
  }
}

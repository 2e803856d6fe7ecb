import type { Knex } from 'knex';

export type ActionState = 'started' | 'succeeded' | 'failed' | 'interrupted';

/** One remote action as this device recorded it. */
export interface ActionRecord {
  readonly id: string;
  readonly kind: string;
  readonly state: ActionState;
  /** What happened (for diagnostics: the JSON bundle). */
  readonly detail: string | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
}

const iso = (value: unknown): string => new Date(value as string | number).toISOString();

function toRecord(row: Record<string, unknown>): ActionRecord {
  return {
    id: String(row.action_id),
    kind: String(row.kind),
    state: row.state as ActionState,
    detail: (row.detail as string | null) ?? null,
    startedAt: iso(row.started_at),
    finishedAt: row.finished_at == null ? null : iso(row.finished_at),
  };
}

/**
 * The remote actions table of the agent's state database. An id is written (`started`) before
 * the action runs and the primary key refuses a second one: an action runs at most once per
 * device, whatever restarts happen around it.
 */
export class ActionLedger {
  constructor(
    private readonly db: Knex,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Records the intent; false if this id was recorded before (it must not run again). */
  async begin(id: string, kind: string): Promise<boolean> {
    if (await this.db('remote_actions').where({ action_id: id }).first()) return false;
    try {
      await this.db('remote_actions').insert({
        action_id: id,
        kind,
        state: 'started',
        started_at: this.now(),
      });
      return true;
    } catch (err) {
      // A concurrent begin of the same id won the insert: this one must not run.
      if (await this.db('remote_actions').where({ action_id: id }).first()) return false;
      throw err;
    }
  }

  async finish(id: string, state: 'succeeded' | 'failed', detail: string): Promise<void> {
    await this.db('remote_actions')
      .where({ action_id: id })
      .update({ state, detail, finished_at: this.now() });
  }

  /**
   * Actions a previous run started and never finished (the agent was stopped or killed while
   * it acted): marked interrupted, never run again. Returns their ids.
   */
  async interruptOpen(): Promise<string[]> {
    const open: { action_id: string }[] = await this.db('remote_actions')
      .where({ state: 'started' })
      .select('action_id');
    if (open.length === 0) return [];
    await this.db('remote_actions').where({ state: 'started' }).update({
      state: 'interrupted',
      detail: 'the agent stopped while the action ran; it is not run again',
      finished_at: this.now(),
    });
    return open.map((r) => r.action_id);
  }

  /** Every id this device recorded, whatever its outcome. */
  async recordedIds(): Promise<Set<string>> {
    const rows: { action_id: string }[] = await this.db('remote_actions').select('action_id');
    return new Set(rows.map((r) => r.action_id));
  }

  /** Newest first. */
  async list(limit = 50): Promise<ActionRecord[]> {
    const rows = await this.db('remote_actions')
      .orderBy('started_at', 'desc')
      .orderBy('action_id')
      .limit(limit);
    return rows.map(toRecord);
  }

  /** Rows whose current state the central database has not received yet, oldest first. */
  async unreported(limit = 20): Promise<ActionRecord[]> {
    const rows = await this.db('remote_actions')
      .where((q) => q.whereNull('reported').orWhereRaw('?? <> ??', ['reported', 'state']))
      .orderBy('started_at')
      .limit(limit);
    return rows.map(toRecord);
  }

  /** The central database has this state of the action (a later change is sent again). */
  async markReported(id: string, state: ActionState): Promise<void> {
    await this.db('remote_actions').where({ action_id: id, state }).update({ reported: state });
  }
}

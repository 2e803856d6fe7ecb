import type { Knex } from 'knex';

/**
 * Every statement the agent sends to the central database, built on the knex instance it is
 * given, so a unit test compiles the very same builders in the mssql dialect without a server
 * (test/unit/mssql-statements.test.ts). One row per statement: a handful of parameters each.
 */

export interface DeploymentKey {
  readonly device_id: string;
  readonly local_id: number;
}

export interface DeploymentRow {
  readonly from_version: string | null;
  readonly to_version: string;
  readonly commit: string | null;
  readonly kind: string;
  readonly outcome: string | null;
  readonly reason: string | null;
  readonly started_at: Date;
  readonly finished_at: Date | null;
}

export interface AgentDeviceRow {
  readonly groups: string;
  readonly channel: string;
  readonly pinned: string | null;
  readonly agent_seen: Date;
}

/** Resolves to the number of rows updated (knex appends `select @@rowcount` on SQL Server). */
export function updateDeploymentQuery(db: Knex, key: DeploymentKey, row: DeploymentRow) {
  return db('ota_deployments').where(key).update(row);
}

export function insertDeploymentQuery(db: Knex, key: DeploymentKey, row: DeploymentRow) {
  return db('ota_deployments').insert({ ...key, ...row });
}

export function updateAgentDeviceQuery(db: Knex, deviceId: string, row: AgentDeviceRow) {
  return db('ota_devices').where({ device_id: deviceId }).update(row);
}

export function insertAgentDeviceQuery(db: Knex, deviceId: string, row: AgentDeviceRow) {
  return db('ota_devices').insert({ device_id: deviceId, ...row });
}

export interface ActionKey {
  readonly device_id: string;
  readonly action_id: string;
}

export interface ActionRow {
  readonly action: string;
  readonly outcome: string | null;
  readonly detail: string | null;
  readonly started_at: Date;
  readonly finished_at: Date | null;
}

/** Resolves to the number of rows updated. */
export function updateActionQuery(db: Knex, key: ActionKey, row: ActionRow) {
  return db('ota_actions').where(key).update(row);
}

export function insertActionQuery(db: Knex, key: ActionKey, row: ActionRow) {
  return db('ota_actions').insert({ ...key, ...row });
}

/** The app's devices with the groups the agent reported for each. */
export function fleetDevicesQuery(db: Knex) {
  return db('devices as d')
    .leftJoin('ota_devices as o', 'o.device_id', 'd.id')
    .select('d.id', 'd.app_version', 'd.status', 'd.last_seen', 'o.groups')
    .orderBy('d.id');
}

/** How many switches to each version ended in each outcome. */
export function rolloutOutcomesQuery(db: Knex) {
  return db('ota_deployments')
    .where('kind', 'switch')
    .select('to_version', 'outcome')
    .count({ n: '*' })
    .groupBy('to_version', 'outcome');
}

/** What every agent writes of a release with halt criteria (table ota_rollouts). */
export interface RolloutRow {
  readonly policy: string;
  readonly tried: number;
  readonly failed: number;
  /** Written only where the row has none yet: the first halt stays. */
  readonly halted_at: Date | null;
  readonly halt_reason: string | null;
  readonly updated_at: Date;
  readonly updated_by: string;
}

/**
 * Per version, the distinct devices whose switch to it finished, and those of them that failed
 * or rolled it back. A failure the device will retry (the image not pushed yet, the network)
 * is not an outcome yet: it counts neither way.
 */
export function rolloutCountsQuery(db: Knex, versions: readonly string[]) {
  return db('ota_deployments')
    .where('kind', 'switch')
    .whereIn('to_version', versions)
    .whereNotNull('outcome')
    .whereNot((q) =>
      q.where('outcome', 'failed').whereNotNull('reason').where('reason', 'like', '%(will retry)'),
    )
    .select('to_version')
    .countDistinct({ tried: 'device_id' })
    .select(
      db.raw('count(distinct case when ?? in (?, ?) then ?? end) as ??', [
        'outcome',
        'failed',
        'rolled-back',
        'device_id',
        'failed',
      ]),
    )
    .groupBy('to_version');
}

export function rolloutHaltsQuery(db: Knex, versions: readonly string[]) {
  return db('ota_rollouts')
    .whereIn('version', versions)
    .whereNotNull('halted_at')
    .select('version', 'halted_at', 'halt_reason', 'policy');
}

/**
 * Resolves to the number of rows updated; `halted_at` and `halt_reason` keep a first value,
 * unless `replaceHalt` (the halt criteria changed: the row's halt is the new judgement's).
 */
export function updateRolloutQuery(
  db: Knex,
  version: string,
  row: RolloutRow,
  replaceHalt = false,
) {
  return db('ota_rollouts')
    .where({ version })
    .update(
      replaceHalt
        ? row
        : {
            ...row,
            halted_at: db.raw('coalesce(??, ?)', ['halted_at', row.halted_at]),
            halt_reason: db.raw('coalesce(??, ?)', ['halt_reason', row.halt_reason]),
          },
    );
}

export function insertRolloutQuery(db: Knex, version: string, row: RolloutRow) {
  return db('ota_rollouts').insert({ version, ...row });
}

export function fleetRolloutRowsQuery(db: Knex) {
  return db('ota_rollouts').select('*').orderBy('version');
}

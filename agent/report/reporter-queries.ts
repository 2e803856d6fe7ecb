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

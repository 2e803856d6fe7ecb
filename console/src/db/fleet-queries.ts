import type { Knex } from 'knex';

/**
 * Every statement the console sends: SELECTs only, over the tables the app (devices,
 * readings) and the agents (ota_devices, ota_deployments, ota_rollouts) write. A table an
 * older fleet has not created yet reads as empty.
 */

export interface DeviceRow {
  id: string;
  hostname: string | null;
  app_version: string | null;
  status: string | null;
  last_seen: unknown;
  groups: string | null;
  channel: string | null;
  pinned: string | null;
  agent_seen: unknown;
}

export interface DeploymentRow {
  device_id: string;
  local_id: number;
  from_version: string | null;
  to_version: string;
  kind: string;
  outcome: string | null;
  reason: string | null;
  started_at: unknown;
  finished_at: unknown;
}

export interface RolloutRow {
  version: string;
  policy: string;
  tried: number;
  failed: number;
  halted_at: unknown;
  halt_reason: string | null;
  updated_at: unknown;
  updated_by: string;
}

export interface Tables {
  readonly devices: boolean;
  readonly otaDevices: boolean;
  readonly deployments: boolean;
  readonly rollouts: boolean;
}

export async function existingTables(db: Knex): Promise<Tables> {
  const [devices, otaDevices, deployments, rollouts] = await Promise.all(
    ['devices', 'ota_devices', 'ota_deployments', 'ota_rollouts'].map((t) => db.schema.hasTable(t)),
  );
  return {
    devices: devices === true,
    otaDevices: otaDevices === true,
    deployments: deployments === true,
    rollouts: rollouts === true,
  };
}

const AGENT_COLUMNS = ['o.groups', 'o.channel', 'o.pinned', 'o.agent_seen'];

/** The app's devices with what their agents reported, and agents whose app never wrote. */
export async function deviceRows(db: Knex, t: Tables, id?: string): Promise<DeviceRow[]> {
  const rows: DeviceRow[] = [];
  if (t.devices) {
    const q = db('devices as d').select(
      'd.id',
      'd.hostname',
      'd.app_version',
      'd.status',
      'd.last_seen',
    );
    if (t.otaDevices) q.leftJoin('ota_devices as o', 'o.device_id', 'd.id').select(AGENT_COLUMNS);
    if (id !== undefined) q.where('d.id', id);
    rows.push(...((await q) as DeviceRow[]));
  }
  if (t.otaDevices) {
    const q = db('ota_devices as o').select('o.device_id as id').select(AGENT_COLUMNS);
    if (t.devices)
      q.whereNotExists(db('devices').select('id').whereRaw('devices.id = o.device_id'));
    if (id !== undefined) q.where('o.device_id', id);
    for (const r of (await q) as DeviceRow[]) {
      rows.push({ ...r, hostname: null, app_version: null, status: null, last_seen: null });
    }
  }
  return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const DEPLOYMENT_COLUMNS = [
  'device_id',
  'local_id',
  'from_version',
  'to_version',
  'kind',
  'outcome',
  'reason',
  'started_at',
  'finished_at',
];

/** Every switch to a version, fleet-wide: what each device did with each release. */
export async function switchRows(db: Knex, t: Tables): Promise<DeploymentRow[]> {
  if (!t.deployments) return [];
  return db('ota_deployments').select(DEPLOYMENT_COLUMNS).where('kind', 'switch');
}

/** One device's deployments of every kind, newest first. */
export async function deviceDeploymentRows(
  db: Knex,
  t: Tables,
  deviceId: string,
): Promise<DeploymentRow[]> {
  if (!t.deployments) return [];
  return db('ota_deployments')
    .select(DEPLOYMENT_COLUMNS)
    .where('device_id', deviceId)
    .orderBy('local_id', 'desc');
}

export async function rolloutRows(db: Knex, t: Tables): Promise<RolloutRow[]> {
  if (!t.rollouts) return [];
  return db('ota_rollouts').select(
    'version',
    'policy',
    'tried',
    'failed',
    'halted_at',
    'halt_reason',
    'updated_at',
    'updated_by',
  );
}

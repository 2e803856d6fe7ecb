import type { Knex } from 'knex';
import type { AgentLogger } from '../log.js';
import type { ActionRecord } from '../state/action-ledger.js';
import type { Deployment } from '../state/agent-state.js';
import { reporterMigrations } from './reporter-migrations.js';
import {
  fleetDevicesQuery,
  fleetRolloutRowsQuery,
  insertActionQuery,
  insertAgentDeviceQuery,
  insertDeploymentQuery,
  rolloutOutcomesQuery,
  updateActionQuery,
  updateAgentDeviceQuery,
  updateDeploymentQuery,
} from './reporter-queries.js';

export { reporterMigrations };

export interface DeviceInfo {
  readonly groups: readonly string[];
  readonly channel: string;
  readonly pinned: string | undefined;
}

export interface FleetReport {
  readonly devices: readonly {
    readonly id: string;
    readonly version: string | null;
    readonly groups: readonly string[];
    readonly status: string | null;
    readonly lastSeen: string | null;
  }[];
  /** Per version: how many devices switched to it, failed it, or rolled it back. */
  readonly rollouts: readonly {
    readonly version: string;
    readonly succeeded: number;
    readonly failed: number;
    readonly rolledBack: number;
    /** For a release with halt criteria: the last evaluation an agent recorded (ota_rollouts). */
    readonly halt?: RolloutHalt | undefined;
  }[];
}

export interface RolloutHalt {
  readonly failedPercent: number | undefined;
  readonly minDevices: number | undefined;
  readonly tried: number;
  readonly failed: number;
  readonly haltedAt: string | undefined;
  readonly reason: string | undefined;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

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

  async sync(deployments: readonly Deployment[], device?: DeviceInfo): Promise<boolean> {
    if (!this.ready()) return false;
    try {
      await this.migrate();
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
        const updated = await updateDeploymentQuery(this.db, key, row);
        if (updated === 0) await insertDeploymentQuery(this.db, key, row);
      }
      if (device) {
        const row = {
          groups: device.groups.join(','),
          channel: device.channel,
          pinned: device.pinned ?? null,
          agent_seen: new Date(),
        };
        const updated = await updateAgentDeviceQuery(this.db, this.deviceId, row);
        if (updated === 0) await insertAgentDeviceQuery(this.db, this.deviceId, row);
      }
      return true;
    } catch (err) {
      this.log.warn({ err }, 'could not report deployments to the central database; will retry');
      return false;
    }
  }

  /**
   * Copies remote actions (their current state) into ota_actions. Returns the ones now there,
   * so the caller marks only those sent; the rest go again at the next sync.
   */
  async syncActions(actions: readonly ActionRecord[]): Promise<ActionRecord[]> {
    const sent: ActionRecord[] = [];
    if (actions.length === 0 || !this.ready()) return sent;
    try {
      await this.migrate();
      for (const a of actions) {
        const key = { device_id: this.deviceId, action_id: a.id };
        const row = {
          action: a.kind,
          outcome: a.state === 'started' ? null : a.state,
          detail: a.detail,
          started_at: new Date(a.startedAt),
          finished_at: a.finishedAt ? new Date(a.finishedAt) : null,
        };
        const updated = await updateActionQuery(this.db, key, row);
        if (updated === 0) await insertActionQuery(this.db, key, row);
        sent.push(a);
      }
    } catch (err) {
      this.log.warn({ err }, 'could not report remote actions to the central database; will retry');
    }
    return sent;
  }

  private async migrate(): Promise<void> {
    if (this.migrated) return;
    await this.db.migrate.latest(reporterMigrations);
    this.migrated = true;
  }

  /** Devices by version and group, and each version's rollout outcomes, fleet-wide. */
  async fleet(): Promise<FleetReport> {
    await this.db.migrate.latest(reporterMigrations);
    const hasDevices = await this.db.schema.hasTable('devices');
    const devices = hasDevices ? await fleetDevicesQuery(this.db) : [];
    const outcomes = (await rolloutOutcomesQuery(this.db)) as {
      to_version: string;
      outcome: string | null;
      n: number | string;
    }[];
    const rollouts = new Map<string, { succeeded: number; failed: number; rolledBack: number }>();
    for (const o of outcomes) {
      const r = rollouts.get(o.to_version) ?? { succeeded: 0, failed: 0, rolledBack: 0 };
      if (o.outcome === 'succeeded') r.succeeded += Number(o.n);
      if (o.outcome === 'failed') r.failed += Number(o.n);
      if (o.outcome === 'rolled-back') r.rolledBack += Number(o.n);
      rollouts.set(o.to_version, r);
    }
    const halts = new Map<string, RolloutHalt>();
    for (const row of await fleetRolloutRowsQuery(this.db)) {
      const version = String(row.version);
      halts.set(version, rolloutHalt(row));
      if (!rollouts.has(version)) rollouts.set(version, { succeeded: 0, failed: 0, rolledBack: 0 });
    }
    return {
      devices: devices.map((d) => ({
        id: String(d.id),
        version: d.app_version ?? null,
        groups: d.groups ? String(d.groups).split(',').filter(Boolean) : [],
        status: d.status ?? null,
        lastSeen: d.last_seen == null ? null : new Date(d.last_seen).toISOString(),
      })),
      rollouts: [...rollouts].map(([version, r]) => {
        const halt = halts.get(version);
        return halt ? { version, ...r, halt } : { version, ...r };
      }),
    };
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

const isoOrUndefined = (value: unknown) =>
  value == null ? undefined : new Date(value as string | number).toISOString();

/** An ota_rollouts row for the fleet view; a policy column it cannot read leaves the limits out. */
function rolloutHalt(row: Record<string, unknown>): RolloutHalt {
  let halt: { failedPercent?: unknown; minDevices?: unknown } | undefined;
  try {
    halt = (JSON.parse(String(row.policy)) as { halt?: typeof halt }).halt;
  } catch {
    halt = undefined;
  }
  return {
    failedPercent: typeof halt?.failedPercent === 'number' ? halt.failedPercent : undefined,
    minDevices: typeof halt?.minDevices === 'number' ? halt.minDevices : undefined,
    tried: Number(row.tried),
    failed: Number(row.failed),
    haltedAt: isoOrUndefined(row.halted_at),
    reason: row.halt_reason == null ? undefined : String(row.halt_reason),
    updatedAt: isoOrUndefined(row.updated_at) ?? '',
    updatedBy: String(row.updated_by),
  };
}

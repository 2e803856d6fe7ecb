import type { Knex } from 'knex';
import type { DbClient } from '../../common/db-config.js';
import {
  deviceDeploymentRows,
  deviceRows,
  existingTables,
  rolloutRows,
  switchRows,
} from './db/fleet-queries.js';
import { downsampledReadings } from './db/reading-queries.js';
import { toIso } from './db/time-value.js';
import { buildFleet, knownVersions } from './model/fleet-view.js';
import { buildReleases } from './model/release-view.js';
import { rolloutStates } from './model/rollout-state.js';

export interface ReadingWindow {
  readonly from?: number | undefined;
  readonly to?: number | undefined;
}

/** What each page shows, read from the central database (SELECTs only) and shaped by the model. */
export class ConsoleData {
  constructor(
    private readonly db: Knex,
    private readonly client: DbClient,
    private readonly staleAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private async load(deviceId?: string) {
    const tables = await existingTables(this.db);
    const [devices, switches, rollouts] = await Promise.all([
      deviceRows(this.db, tables),
      switchRows(this.db, tables),
      rolloutRows(this.db, tables),
    ]);
    const states = rolloutStates(rollouts);
    const input = {
      devices,
      switches,
      rollouts: states,
      now: this.now(),
      staleAfterMs: this.staleAfterMs,
    };
    const history = deviceId ? await deviceDeploymentRows(this.db, tables, deviceId) : [];
    return { tables, input, fleet: buildFleet(input), history };
  }

  async fleet() {
    const { fleet, tables, input } = await this.load();
    const halted = [...input.rollouts.values()]
      .filter((r) => r.haltedAt !== null)
      .map((r) => ({ version: r.version, at: r.haltedAt, reason: r.haltReason }));
    return {
      generatedAt: new Date(this.now()).toISOString(),
      rolloutsRecorded: tables.rollouts,
      halted,
      devices: fleet,
    };
  }

  async releases() {
    const { fleet, input, tables } = await this.load();
    return {
      generatedAt: new Date(this.now()).toISOString(),
      rolloutsRecorded: tables.rollouts,
      fleetSize: fleet.length,
      releases: buildReleases(fleet, input.switches, input.rollouts, knownVersions(input)),
    };
  }

  /** Undefined when no table knows the device. */
  async device(id: string) {
    const { fleet, history } = await this.load(id);
    const device = fleet.find((d) => d.id === id);
    if (!device) return undefined;
    return {
      generatedAt: new Date(this.now()).toISOString(),
      device,
      deployments: history.map((d) => ({
        id: Number(d.local_id),
        kind: d.kind,
        from: d.from_version,
        to: d.to_version,
        outcome: d.outcome,
        reason: d.reason,
        startedAt: toIso(d.started_at),
        finishedAt: toIso(d.finished_at),
      })),
    };
  }

  async readings(id: string, window: ReadingWindow, points?: number) {
    const tables = await existingTables(this.db);
    if (!tables.devices) return undefined;
    return downsampledReadings(this.db, this.client, id, window, points);
  }
}

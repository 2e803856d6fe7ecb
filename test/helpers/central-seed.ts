import type { Knex } from 'knex';
import { reporterMigrations } from '../../agent/report/central-reporter.js';
import {
  type AgentDeviceRow,
  type DeploymentRow,
  insertAgentDeviceQuery,
  insertDeploymentQuery,
} from '../../agent/report/reporter-queries.js';
import { makeReading } from '../../app/sensor/reading.js';
import { initialWeatherState, nextWeather, seededRandom } from '../../app/sensor/weather-model.js';
import { insertDeviceQuery, readingRow } from '../../app/store/central-queries.js';
import { appMigrations } from '../../app/store/migrations/index.js';

/**
 * The central database as the fleet writes it: the app's and the agent's real migrations, and
 * rows through their own statement builders (app/store/central-queries.ts,
 * agent/report/reporter-queries.ts), so the console is tested against the schema it will meet.
 */
export async function migrateCentral(
  db: Knex,
  opts: { readonly beforeHalts?: boolean } = {},
): Promise<void> {
  await db.migrate.latest(appMigrations);
  await db.migrate.latest(opts.beforeHalts ? withoutRollouts : reporterMigrations);
}

/** The agent's migrations as agents before automatic halts had them: no `ota_rollouts`. */
const withoutRollouts: Knex.MigratorConfig = {
  ...reporterMigrations,
  migrationSource: {
    ...(reporterMigrations.migrationSource as Knex.MigrationSource<string>),
    getMigrations: async (loadExtensions) =>
      (
        await (reporterMigrations.migrationSource as Knex.MigrationSource<string>).getMigrations(
          loadExtensions,
        )
      ).filter((name) => !name.endsWith('_ota_rollouts')),
  },
};

export interface SeedDevice {
  readonly id: string;
  readonly version: string;
  readonly lastSeen: Date;
  readonly status?: 'online' | 'stopped';
  /** Absent: no agent has reported for it. */
  readonly agent?: { groups: string[]; channel?: string; pinned?: string; seen?: Date };
}

/** A device as its app (and, with `agent`, its agent) reports it; `appWrote: false` for agent only. */
export async function writeDevice(db: Knex, d: SeedDevice & { appWrote?: boolean }): Promise<void> {
  if (d.appWrote !== false) {
    await insertDeviceQuery(db, d.id, new Date(d.lastSeen.getTime() - 86_400_000), {
      hostname: `host-${d.id}`,
      app_version: d.version,
      last_seen: d.lastSeen,
      status: d.status ?? 'online',
    });
  }
  if (d.agent) {
    const row: AgentDeviceRow = {
      groups: d.agent.groups.join(','),
      channel: d.agent.channel ?? 'stable',
      pinned: d.agent.pinned ?? null,
      agent_seen: d.agent.seen ?? d.lastSeen,
    };
    await insertAgentDeviceQuery(db, d.id, row);
  }
}

export async function writeDeployment(
  db: Knex,
  deviceId: string,
  localId: number,
  row: Omit<DeploymentRow, 'commit' | 'kind'> & { kind?: string },
): Promise<void> {
  await insertDeploymentQuery(
    db,
    { device_id: deviceId, local_id: localId },
    { commit: `c${row.to_version}`, kind: 'switch', ...row },
  );
}

/**
 * Readings from the app's own weather model, one every `stepMs` from `start`, produced by
 * `versionAt(time)`; inserted `chunk` rows per statement in one transaction.
 */
export async function writeReadings(
  db: Knex,
  deviceId: string,
  opts: {
    start: number;
    count: number;
    stepMs: number;
    versionAt: (t: number) => string;
    chunk?: number;
  },
): Promise<void> {
  const random = seededRandom(deviceId.length + opts.count);
  let state = initialWeatherState(opts.start, random);
  const chunk = opts.chunk ?? 150;
  await db.transaction(async (trx) => {
    let rows = [];
    for (let i = 0; i < opts.count; i++) {
      const now = opts.start + i * opts.stepMs;
      const next = nextWeather(state, now, random);
      state = next.state;
      const reading = makeReading(next.weather, { deviceId, appVersion: opts.versionAt(now), now });
      rows.push(readingRow(reading, new Date(now + 5_000)));
      if (rows.length === chunk) {
        await trx('readings').insert(rows);
        rows = [];
      }
    }
    if (rows.length) await trx('readings').insert(rows);
  });
}

import { join } from 'node:path';
import Database from 'better-sqlite3';
import knex, { type Knex } from 'knex';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { CentralReporter, reporterMigrations } from '../../agent/report/central-reporter.js';
import type { Deployment } from '../../agent/state/agent-state.js';
import { loadAppConfig } from '../../app/config.js';
import { CentralStore } from '../../app/store/central-store.js';
import { knexConfig } from '../../app/store/knex-config.js';
import { Spool } from '../../app/store/spool.js';
import { Uploader } from '../../app/store/uploader.js';
import { AppProcess } from '../helpers/app-process.js';
import { captureLog } from '../helpers/capture-log.js';
import { TestPostgres } from '../helpers/postgres.js';
import { sampleReadings } from '../helpers/readings.js';
import { tempDir } from '../helpers/temp-dir.js';

// A rollback, a withdrawal or a staged rollout leaves an older version writing to a central
// database that a newer version already migrated. "v2" here is the shipped code plus one more
// expand-only migration; "v1" is the shipped code (the built app as a real process).

/** The shipped migrations plus `extra`, as the next release would list them. */
function plus(config: Knex.MigratorConfig, extra: Record<string, Knex.Migration>) {
  const source = config.migrationSource as Knex.MigrationSource<string>;
  const next: Knex.MigrationSource<string> = {
    getMigrations: async (ext) => [...(await source.getMigrations(ext)), ...Object.keys(extra)],
    getMigrationName: (name) => name,
    getMigration: async (name) => extra[name] ?? source.getMigration(name),
  };
  return { ...config, migrationSource: next };
}

const forwardOnly = async () => {
  throw new Error('migrations are forward-only');
};

const V2_APP: Record<string, Knex.Migration> = {
  '29990101000000_readings_feels_like': {
    async up(db) {
      await db.schema.alterTable('readings', (t) => {
        t.double('feels_like_c').nullable();
        t.string('quality', 16).notNullable().defaultTo('raw');
      });
      await db.schema.createTable('stations', (t) => {
        t.string('id', 64).primary();
      });
    },
    down: forwardOnly,
  },
};

const V2_AGENT: Record<string, Knex.Migration> = {
  '29990101000000_ota_deployments_duration': {
    async up(db) {
      await db.schema.alterTable('ota_deployments', (t) => t.integer('duration_ms').nullable());
      await db.schema.createTable('ota_watches', (t) => t.string('device_id', 64).primary());
    },
    down: forwardOnly,
  },
};

const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(check: () => boolean, timeoutMs: number, what: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await sleep(100);
  }
}

function spoolIds(dataDir: string): { all: string[]; pending: number } {
  const db = new Database(join(dataDir, 'spool.db'), { readonly: true });
  try {
    const all = (db.prepare('SELECT id FROM spool').all() as { id: string }[]).map((r) => r.id);
    const { pending } = db
      .prepare('SELECT COUNT(*) AS pending FROM spool WHERE sent_at IS NULL')
      .get() as { pending: number };
    return { all, pending };
  } finally {
    db.close();
  }
}

/** v2 in this process: the real spool and uploader, on a knex that lists one more migration. */
async function startV2(env: Record<string, string>) {
  const base = knexConfig(loadAppConfig(env).db);
  const central = new CentralStore(
    knex({ ...base, migrations: plus(base.migrations ?? {}, V2_APP) }),
  );
  onTestFinished(() => central.close());
  await central.migrate();
  const dir = tempDir();
  const spool = new Spool(join(dir, 'spool.db'));
  onTestFinished(() => spool.close());
  const uploader = new Uploader(
    spool,
    central,
    {
      owner: 'v2',
      batchSize: 500,
      intervalMs: 50,
      leaseMs: 60_000,
      minRetryMs: 10,
      maxRetryMs: 50,
      now: Date.now,
    },
    silent,
  );
  let start = Date.UTC(2026, 5, 1);
  return {
    dir,
    /** Records `n` readings as v2 and uploads them. */
    async upload(n: number) {
      for (const r of sampleReadings(n, 'pi-v2', start))
        spool.append({ ...r, appVersion: '2.0.0' });
      start += n * 1000;
      for (let sent = 1; sent > 0; ) sent = await uploader.uploadOnce();
      expect(spool.counts().pending).toBe(0);
    },
  };
}

/** v1: the built app (dist/app/main.js) on the same database until it uploaded some readings. */
async function runV1(env: Record<string, string>) {
  const dir = tempDir();
  const app = new AppProcess({
    ...env,
    WEATHER_DATA_DIR: dir,
    WEATHER_HEALTH_FILE: join(dir, 'health.json'),
    WEATHER_DEVICE_ID: 'pi-v1',
    WEATHER_APP_VERSION: '1.0.0',
    WEATHER_INTERVAL_MS: '100',
    WEATHER_UPLOAD_INTERVAL_MS: '200',
    WEATHER_UPLOAD_MAX_BACKOFF_MS: '500',
  });
  onTestFinished(async () => {
    await app.kill();
  });
  const warnings = () => [
    ...new Set(app.events.filter((e) => e.level >= 40).map((e) => JSON.stringify(e.err))),
  ];
  await waitUntil(
    () => app.events.some((e) => e.msg === 'central database ready'),
    15_000,
    () => `v1 to reach the database a newer version migrated; its warnings: ${warnings()}`,
  );
  await waitUntil(
    () => spoolIds(dir).all.length >= 10,
    15_000,
    () => 'ten v1 readings',
  );
  expect(await app.stop()).toBe(0);
  return dir;
}

async function everyReadingOnce(env: Record<string, string>) {
  const v2 = await startV2(env);
  await v2.upload(25);
  const v1Dir = await runV1(env);
  await v2.upload(25); // and v2 goes on after v1 ran, on the same schema

  const reader = knex(knexConfig(loadAppConfig(env).db));
  onTestFinished(() => reader.destroy());
  const rows: { id: string; app_version: string; feels_like_c: number | null; quality: string }[] =
    await reader('readings').select('id', 'app_version', 'feels_like_c', 'quality');
  const v1 = spoolIds(v1Dir);
  const v2Ids = spoolIds(v2.dir).all;
  expect(v1.pending).toBe(0);
  expect(v1.all.length).toBeGreaterThanOrEqual(10);
  expect(rows).toHaveLength(v1.all.length + v2Ids.length);
  expect(new Set(rows.map((r) => r.id))).toEqual(new Set([...v1.all, ...v2Ids]));
  // Columns v1 does not know keep their defaults in v1's rows.
  const v1Rows = rows.filter((r) => r.app_version === '1.0.0');
  expect(v1Rows).toHaveLength(v1.all.length);
  expect(new Set(v1Rows.map((r) => `${r.feels_like_c}/${r.quality}`))).toEqual(
    new Set(['null/raw']),
  );
}

const deployment = (id: number, to: string): Deployment => ({
  id,
  from: null,
  to,
  commit: `c${to}`,
  kind: 'switch',
  startedAt: new Date(Date.UTC(2026, 10, 1, 12, id)).toISOString(),
  finishedAt: new Date(Date.UTC(2026, 10, 1, 12, id, 30)).toISOString(),
  outcome: 'succeeded',
  reason: null,
});

async function agentReportsOnce(env: Record<string, string>) {
  const config = knexConfig(loadAppConfig(env).db);
  // v2 of the agent migrates the reporter's tables one step further and writes its new column.
  const v2 = knex(config);
  onTestFinished(() => v2.destroy());
  await v2.migrate.latest(plus(reporterMigrations, V2_AGENT));
  await v2('ota_deployments').insert({
    device_id: 'pi-agent-v2',
    local_id: 1,
    to_version: '2.0.0',
    kind: 'switch',
    outcome: 'succeeded',
    started_at: new Date(),
    duration_ms: 1234,
  });

  const { log, events } = captureLog();
  const v1 = new CentralReporter(knex(config), 'pi-agent-v1', log);
  onTestFinished(() => v1.close());
  const warnings = () => JSON.stringify(events().map((e) => (e.err as Error)?.message));
  expect(await v1.sync([deployment(1, '1.0.0')]), warnings()).toBe(true);
  expect(await v1.sync([deployment(1, '1.0.0'), deployment(2, '1.1.0')]), warnings()).toBe(true);
  expect((await v1.fleet()).rollouts.map((r) => r.version).sort()).toEqual([
    '1.0.0',
    '1.1.0',
    '2.0.0',
  ]);

  const rows = await v2('ota_deployments').orderBy(['device_id', 'local_id']);
  expect(rows.map((r) => [r.device_id, r.to_version, r.duration_ms])).toEqual([
    ['pi-agent-v1', '1.0.0', null],
    ['pi-agent-v1', '1.1.0', null],
    ['pi-agent-v2', '2.0.0', 1234],
  ]);
}

describe('an older version on a central database a newer one migrated', () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await TestPostgres.start();
  });
  afterAll(async () => {
    await pg?.destroy();
  });

  it('PostgreSQL: v1 and v2 both upload, and every reading arrives once', async () => {
    await everyReadingOnce(pg.env);
  });

  it('SQLite file: v1 and v2 both upload, and every reading arrives once', async () => {
    await everyReadingOnce({ WEATHER_DB_FILE: join(tempDir(), 'weather.db') });
  });

  it('PostgreSQL: an older agent keeps reporting its deployments', async () => {
    await agentReportsOnce(pg.env);
  });

  it('SQLite file: an older agent keeps reporting its deployments', async () => {
    await agentReportsOnce({ WEATHER_DB_FILE: join(tempDir(), 'weather.db') });
  });
});

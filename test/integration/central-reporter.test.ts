import { join } from 'node:path';
import knex from 'knex';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { CentralReporter } from '../../agent/report/central-reporter.js';
import type { Deployment } from '../../agent/state/agent-state.js';
import { loadAppConfig } from '../../app/config.js';
import { CentralStore } from '../../app/store/central-store.js';
import { knexConfig } from '../../app/store/knex-config.js';
import { captureLog } from '../helpers/capture-log.js';
import { TestPostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/temp-dir.js';

const deployment = (id: number, to: string, outcome: Deployment['outcome']): Deployment => ({
  id,
  from: id === 1 ? null : '1.0.0',
  to,
  commit: `c${to}`,
  kind: 'switch',
  startedAt: new Date(Date.UTC(2026, 10, 1, 12, id)).toISOString(),
  finishedAt: outcome ? new Date(Date.UTC(2026, 10, 1, 12, id, 30)).toISOString() : null,
  outcome,
  reason: outcome === 'failed' ? 'not healthy within 120 s' : null,
});

async function exercise(env: Record<string, string>) {
  const db = loadAppConfig(env).db;
  const { log } = captureLog();
  const reporter = new CentralReporter(knex(knexConfig(db)), 'pi-abc', log);
  onTestFinished(() => reporter.close());
  expect(
    await reporter.sync([deployment(1, '1.0.0', 'succeeded'), deployment(2, '1.1.0', null)]),
  ).toBe(true);
  // The switch finished: the same row is updated, not duplicated; a second device is separate.
  expect(
    await reporter.sync([deployment(1, '1.0.0', 'succeeded'), deployment(2, '1.1.0', 'failed')]),
  ).toBe(true);
  const other = new CentralReporter(knex(knexConfig(db)), 'pi-xyz', log);
  onTestFinished(() => other.close());
  expect(await other.sync([deployment(1, '2.0.0', 'succeeded')])).toBe(true);

  // The app's own tables next to the agent's: one device row per device, as the app writes it.
  const app = new CentralStore(knex(knexConfig(db)));
  onTestFinished(() => app.close());
  await app.migrate();
  await app.touchDevice(
    { id: 'pi-abc', hostname: 'h1', appVersion: '1.0.0', status: 'online' },
    new Date(),
  );
  await app.touchDevice(
    { id: 'pi-xyz', hostname: 'h2', appVersion: '2.0.0', status: 'online' },
    new Date(),
  );
  await reporter.sync([], { groups: ['site-a', 'pi4'], channel: 'stable', pinned: undefined });
  const fleet = await reporter.fleet();
  expect(fleet.devices.map((d) => [d.id, d.version, d.groups])).toEqual([
    ['pi-abc', '1.0.0', ['site-a', 'pi4']],
    ['pi-xyz', '2.0.0', []],
  ]);
  expect(fleet.rollouts).toEqual(
    expect.arrayContaining([
      { version: '1.0.0', succeeded: 1, failed: 0, rolledBack: 0 },
      { version: '1.1.0', succeeded: 0, failed: 1, rolledBack: 0 },
      { version: '2.0.0', succeeded: 1, failed: 0, rolledBack: 0 },
    ]),
  );

  const reader = knex(knexConfig(db));
  onTestFinished(() => reader.destroy());
  const rows = await reader('ota_deployments').orderBy(['device_id', 'local_id']);
  expect(rows.map((r) => [r.device_id, r.to_version, r.outcome])).toEqual([
    ['pi-abc', '1.0.0', 'succeeded'],
    ['pi-abc', '1.1.0', 'failed'],
    ['pi-xyz', '2.0.0', 'succeeded'],
  ]);
}

describe('central reporter', () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await TestPostgres.start();
  });
  afterAll(async () => {
    await pg?.destroy();
  });

  it('keeps one row per device deployment in a real SQLite file', async () => {
    await exercise({ WEATHER_DB_FILE: join(tempDir(), 'weather.db') });
  });

  it('keeps one row per device deployment in a real PostgreSQL', async () => {
    await exercise(pg.env);
  });

  it('reports a database that is away as a warning, and succeeds once it is back', async () => {
    const { log, events } = captureLog();
    const reporter = new CentralReporter(
      knex(knexConfig(loadAppConfig(pg.env).db)),
      'pi-away',
      log,
    );
    onTestFinished(() => reporter.close());
    await pg.pause();
    try {
      expect(await reporter.sync([deployment(1, '1.0.0', 'succeeded')])).toBe(false);
    } finally {
      await pg.resume();
    }
    expect(events().some((e) => String(e.msg).startsWith('could not report deployments'))).toBe(
      true,
    );
    expect(await reporter.sync([deployment(1, '1.0.0', 'succeeded')])).toBe(true);
  });
});

import { join } from 'node:path';
import Database from 'better-sqlite3';
import knex, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppProcess } from '../helpers/app-process.js';
import { TestPostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/temp-dir.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function appEnv(dataDir: string, name: string, extra: Record<string, string>) {
  return {
    WEATHER_DATA_DIR: dataDir,
    WEATHER_HEALTH_FILE: join(dataDir, `${name}-health.json`),
    WEATHER_DEVICE_ID: 'pi-durability',
    WEATHER_INTERVAL_MS: '100',
    WEATHER_UPLOAD_INTERVAL_MS: '200',
    WEATHER_UPLOAD_BATCH: '50',
    WEATHER_UPLOAD_MAX_BACKOFF_MS: '1000',
    ...extra,
  };
}

describe('weather app against a real PostgreSQL that goes away', () => {
  let pg: TestPostgres;
  let db: Knex;

  beforeAll(async () => {
    pg = await TestPostgres.start();
    db = knex({
      client: 'pg',
      connection: { host: '127.0.0.1', port: pg.port, user: 'postgres', database: 'postgres' },
      pool: { min: 0, max: 1 },
    });
  });
  afterAll(async () => {
    await db?.destroy();
    await pg?.destroy();
  });

  it('loses and duplicates nothing across an outage, a crash and a restart', async () => {
    const dataDir = tempDir();
    const first = new AppProcess(appEnv(dataDir, 'first', pg.env));
    await first.waitFor('central database ready');
    await sleep(1_000);

    await pg.pause(); // the database goes away ...
    await sleep(1_500);
    await first.kill(); // ... and the app crashes while it is away
    const second = new AppProcess(appEnv(dataDir, 'second', pg.env));
    await second.waitFor('started');
    await sleep(1_500);
    expect(spoolIds(dataDir).pending).toBeGreaterThan(20);

    await pg.resume(); // the database comes back
    await second.waitFor('central database ready');
    // The crashed process's last batch is leased for 30 s; then the second one sends it too.
    await waitUntil(() => spoolIds(dataDir).pending === 0, 60_000, 'an empty spool');
    expect(await second.stop()).toBe(0);

    const spooled = spoolIds(dataDir);
    expect(spooled.pending).toBe(0);
    const rows: { id: string }[] = await db('readings').select('id');
    const ids = rows.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(spooled.all));
    expect(ids.length).toBeGreaterThan(40);
    // Both processes' readings arrived, each tagged with the device.
    const devices = await db('readings').distinct('device_id');
    expect(devices).toEqual([{ device_id: 'pi-durability' }]);
    const [device] = await db('devices').where({ id: 'pi-durability' });
    expect(device?.status).toBe('stopped');
  });

  it('two app processes sharing one spool upload each reading exactly once', async () => {
    const dataDir = tempDir();
    await db('readings').delete();
    const a = new AppProcess(appEnv(dataDir, 'a', pg.env));
    const b = new AppProcess(appEnv(dataDir, 'b', pg.env));
    await Promise.all([a.waitFor('central database ready'), b.waitFor('central database ready')]);
    await sleep(3_000);
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);

    const uploaded = [a, b].map((p) => {
      const stopped = p.events.find((e) => e.msg === 'stopped');
      return Number(stopped?.uploaded);
    });
    const [{ n }] = (await db('readings').count({ n: '*' })) as [{ n: string }];
    const spooled = spoolIds(dataDir);
    expect(spooled.pending).toBe(0);
    expect(Number(n)).toBe(spooled.all.length);
    // Every upload one process made is a distinct reading: the sum is not above the total.
    expect((uploaded[0] ?? 0) + (uploaded[1] ?? 0)).toBe(Number(n));
  });
});

describe('weather app start-up', () => {
  it('stops on bad configuration with a message naming the variable', async () => {
    const dataDir = tempDir();
    const app = new AppProcess(appEnv(dataDir, 'bad', { WEATHER_INTERVAL_MS: 'often' }));
    expect(await app.exited).toBe(2);
    const fatal = app.events.find((e) => e.level === 60);
    expect(fatal?.variable).toBe('WEATHER_INTERVAL_MS');
    expect(fatal?.msg).toMatch(/WEATHER_INTERVAL_MS: expected an integer/);
  });

  it('runs alone on the default SQLite database and exits 0 quickly on SIGTERM', async () => {
    const dataDir = tempDir();
    const app = new AppProcess({
      WEATHER_DATA_DIR: dataDir,
      WEATHER_HEALTH_FILE: join(dataDir, 'health.json'),
      WEATHER_INTERVAL_MS: '200',
    });
    await app.waitFor('central database ready');
    await waitUntil(() => spoolIds(dataDir).all.length >= 3, 10_000, 'three readings');
    const started = Date.now();
    expect(await app.stop()).toBe(0);
    expect(Date.now() - started).toBeLessThan(2_000);
    const central = new Database(join(dataDir, 'weather.db'), { readonly: true });
    const { n } = central.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number };
    central.close();
    expect(n).toBe(spoolIds(dataDir).all.length);
  });
});

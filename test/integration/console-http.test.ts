import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import knex from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONSOLE_ROLE,
  postgresDatabase,
  type SeededDatabase,
  sqliteDatabase,
} from '../helpers/console-databases.js';
import {
  FAILED_REASON,
  FLEET_NOW,
  HALT_REASON,
  READINGS,
  ROLLED_REASON,
  SWITCH_AT,
  seedConsoleFleet,
} from '../helpers/console-fleet.js';
import { byId, getJson, type Json } from '../helpers/console-json.js';
import { startConsole } from '../helpers/console-server.js';
import { tempDirForSuite } from '../helpers/temp-dir.js';

const get = getJson;

describe.each(['sqlite', 'postgres'] as const)('console over %s', (kind) => {
  let db: SeededDatabase;
  let url: string;
  let sqliteFile = '';
  const dir = tempDirForSuite('ota-console-');

  beforeAll(async () => {
    db = kind === 'sqlite' ? await sqliteDatabase(dir) : await postgresDatabase();
    await seedConsoleFleet(db.writer, { rollouts: true });
    const env = await db.readOnlyEnv();
    sqliteFile = env.WEATHER_DB_FILE ?? '';
    ({ url } = await startConsole(env, () => FLEET_NOW, afterAll));
  });
  afterAll(async () => db?.destroy());

  it('shows every device with its health, staleness, and why it is not on the newest release', async () => {
    const { status, body } = await get(`${url}/api/fleet`);
    expect(status).toBe(200);
    expect(body.halted).toEqual([
      { version: '1.2.0', at: new Date(SWITCH_AT + 600_000).toISOString(), reason: HALT_REASON },
    ]);
    const d = byId(body.devices);
    expect(Object.keys(d)).toEqual([
      'pi-beta',
      'pi-failed',
      'pi-newbox',
      'pi-noagent',
      'pi-ok',
      'pi-pinned',
      'pi-rolled',
      'pi-stale',
    ]);
    expect(d['pi-ok']).toMatchObject({
      version: '1.2.0',
      health: 'online',
      stale: false,
      newest: '1.2.0',
      behind: null,
    });
    expect(d['pi-ok'].groups).toEqual(['lab']);
    expect(d['pi-stale']).toMatchObject({
      health: 'stale',
      stale: true,
      behind: `1.2.0 halted: ${HALT_REASON}`,
    });
    expect(d['pi-failed'].behind).toBe(`1.2.0 failed here: ${FAILED_REASON}`);
    expect(d['pi-rolled'].behind).toBe(`1.2.0 rolled back here: ${ROLLED_REASON}`);
    expect(d['pi-pinned']).toMatchObject({ pinned: '1.0.0', behind: 'pinned to 1.0.0' });
    expect(d['pi-beta']).toMatchObject({ channel: 'beta', newest: '1.3.0-beta.1', behind: null });
    expect(d['pi-noagent']).toMatchObject({ health: 'stopped', channel: 'stable', groups: [] });
    expect(d['pi-newbox']).toMatchObject({
      version: null,
      hostname: null,
      groups: ['field'],
      health: 'unknown',
      behind: '1.2.0 is limited to groups lab',
    });
  });

  it('shows each release against its policy, with outcomes and grouped failure reasons', async () => {
    const { body } = await get(`${url}/api/releases`);
    expect(body.rolloutsRecorded).toBe(true);
    expect(body.releases.map((r: Json) => r.version)).toEqual([
      '1.3.0-beta.1',
      '1.2.0',
      '1.1.0',
      '1.0.0',
    ]);
    const r = body.releases[1];
    expect(r).toMatchObject({
      policy: {
        percent: 100,
        groups: ['lab'],
        withdrawn: false,
        halt: { failedPercent: 20, minDevices: 3 },
      },
      // lab devices: pi-ok, pi-failed, pi-rolled, pi-stale, pi-beta (a release is on every channel)
      admitted: 5,
      running: 1,
      // pi-ok, and pi-beta on 1.3.0-beta.1
      reached: 2,
      succeeded: 1,
      failed: 1,
      rolledBack: 1,
      inProgress: 0,
      waiting: 1,
      halted: { at: new Date(SWITCH_AT + 600_000).toISOString(), reason: HALT_REASON },
      recorded: { tried: 3, failed: 2, by: 'pi-rolled' },
    });
    expect(r.failureReasons).toEqual(
      expect.arrayContaining([
        { reason: FAILED_REASON, devices: 1 },
        { reason: ROLLED_REASON, devices: 1 },
      ]),
    );
    expect(body.releases[2]).toMatchObject({
      version: '1.1.0',
      running: 4,
      succeeded: 4,
      halted: null,
    });
  });

  it("serves a device's history and its readings downsampled in SQL, each point from one version", async () => {
    const { body } = await get(`${url}/api/devices/pi-ok`);
    expect(body.deployments.map((x: Json) => [x.id, x.to, x.outcome])).toEqual([
      [2, '1.2.0', 'succeeded'],
      [1, '1.1.0', 'succeeded'],
    ]);
    const { body: s } = await get(`${url}/api/devices/pi-ok/readings`);
    expect(s.versions).toEqual(['1.1.0', '1.2.0']);
    expect(s.count.reduce((a: number, b: number) => a + b, 0)).toBe(READINGS.count);
    // Fewer readings than the points asked for: one bucket each (times stored as instants).
    expect(s.t).toHaveLength(READINGS.count);
    expect(s.t).toEqual([...s.t].sort((a: number, b: number) => a - b));
    s.t.forEach((t: number, i: number) => {
      expect(s.versions[s.version[i]]).toBe(t < SWITCH_AT ? '1.1.0' : '1.2.0');
    });

    // The averages are the readings' own: compare with every row read back.
    const reader = knex(
      kind === 'sqlite'
        ? {
            client: 'better-sqlite3',
            connection: { filename: sqliteFile, options: { readonly: true } },
            useNullAsDefault: true,
          }
        : {
            client: 'pg',
            connection: {
              host: '127.0.0.1',
              port: (db as Json).pg.port,
              user: CONSOLE_ROLE,
              database: 'postgres',
            },
          },
    );
    try {
      const raw = await reader('readings')
        .where('device_id', 'pi-ok')
        .sum({ s: 'temperature_c' })
        .first();
      const fromPoints = s.temperature.reduce(
        (a: number, v: number, i: number) => a + v * s.count[i],
        0,
      );
      expect(fromPoints).toBeCloseTo(Number(raw?.s), 0);
    } finally {
      await reader.destroy();
    }

    // Fewer points than readings: hourly buckets, averaged in SQL, still one version each.
    const { body: hourly } = await get(`${url}/api/devices/pi-ok/readings?points=24`);
    expect(hourly.bucketMs).toBeGreaterThan(3_000_000);
    expect(hourly.t.length).toBeLessThanOrEqual(24 + 2);
    expect(hourly.count.reduce((a: number, b: number) => a + b, 0)).toBe(READINGS.count);
    expect(Math.max(...hourly.count)).toBeGreaterThan(1);
    hourly.t.forEach((t: number, i: number) => {
      expect(hourly.versions[hourly.version[i]]).toBe(t < SWITCH_AT ? '1.1.0' : '1.2.0');
    });
    expect((await get(`${url}/api/devices/pi-ok/readings?points=3`)).status).toBe(400);

    const { body: after } = await get(
      `${url}/api/devices/pi-ok/readings?from=${new Date(SWITCH_AT).toISOString()}`,
    );
    expect(after.versions).toEqual(['1.2.0']);
    expect((await get(`${url}/api/devices/pi-ok/readings?from=yesterday`)).status).toBe(400);
    expect((await get(`${url}/api/devices/nobody`)).status).toBe(404);
  });

  it('serves the pages and their files, GET only, with a strict content policy', async () => {
    for (const path of [
      '/',
      '/releases',
      '/devices/pi-ok',
      '/assets/uPlot.esm.js',
      '/assets/fleet.js',
    ]) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    }
    const html = await (await fetch(`${url}/devices/pi-ok`)).text();
    expect(html).toContain('data-device="pi-ok"');
    expect((await fetch(`${url}/devices/%3Cscript%3E`)).status).toBe(404);
    expect((await fetch(`${url}/api/fleet`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${url}/assets/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${url}/assets/__proto__`)).status).toBe(404);
    expect((await fetch(`${url}/assets/constructor`)).status).toBe(404);
  });

  it('never writes: the SQLite file is unchanged, the PostgreSQL role can only SELECT', async () => {
    if (kind === 'sqlite') {
      const hash = () => createHash('sha256').update(readFileSync(sqliteFile)).digest('hex');
      const before = hash();
      for (const path of [
        '/api/fleet',
        '/api/releases',
        '/api/devices/pi-ok',
        '/api/devices/pi-ok/readings',
      ]) {
        expect((await fetch(`${url}${path}`)).status).toBe(200);
      }
      expect(hash()).toBe(before);
    } else {
      // Every page above was served by this role (CONSOLE_DB_USER); it cannot write anything.
      const sessions = await db
        .writer('pg_stat_activity')
        .where('usename', CONSOLE_ROLE)
        .count({ n: '*' });
      expect(Number(sessions[0]?.n)).toBeGreaterThan(0);
      const reader = knex({
        client: 'pg',
        connection: {
          host: '127.0.0.1',
          port: (db as Json).pg.port,
          user: CONSOLE_ROLE,
          database: 'postgres',
        },
      });
      try {
        await expect(reader('devices').update({ status: 'stopped' })).rejects.toThrow(
          /permission denied/,
        );
        await expect(reader.schema.createTable('x', (t) => t.string('a'))).rejects.toThrow(
          /permission denied/,
        );
      } finally {
        await reader.destroy();
      }
    }
  });
});

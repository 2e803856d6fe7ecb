// The console when things are not as they should be: agents older than automatic halts (no
// ota_rollouts), PostgreSQL going away, and who may reach it at all.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConsoleConfig } from '../../console/src/config.js';
import { hashPassword } from '../../console/src/password.js';
import { postgresDatabase, sqliteDatabase } from '../helpers/console-databases.js';
import { FLEET_NOW, seedConsoleFleet } from '../helpers/console-fleet.js';
import { byId, getJson as get, type Json } from '../helpers/console-json.js';
import { startConsole } from '../helpers/console-server.js';
import { tempDirForSuite } from '../helpers/temp-dir.js';

describe('console over a database without ota_rollouts (agents older than automatic halts)', () => {
  const dir = tempDirForSuite('ota-console-old-');
  let url: string;

  beforeAll(async () => {
    const db = await sqliteDatabase(dir);
    await seedConsoleFleet(db.writer, { rollouts: false });
    ({ url } = await startConsole(await db.readOnlyEnv(), () => FLEET_NOW, afterAll));
  });

  it('shows rollouts from the deployments alone, without policy or halt', async () => {
    const { body } = await get(`${url}/api/releases`);
    expect(body.rolloutsRecorded).toBe(false);
    const r = body.releases.find((x: Json) => x.version === '1.2.0');
    expect(r).toMatchObject({
      policy: null,
      halted: null,
      recorded: null,
      succeeded: 1,
      failed: 1,
      rolledBack: 1,
    });
    const fleet = await get(`${url}/api/fleet`);
    expect(fleet.body.halted).toEqual([]);
    expect(byId(fleet.body.devices)['pi-stale'].behind).toBe('offline: not seen recently');
  });
});

describe('console access', () => {
  const dir = tempDirForSuite('ota-console-auth-');

  it('refuses to listen beyond loopback without a password, and asks for it when set', async () => {
    expect(() => loadConsoleConfig({ CONSOLE_HOST: '0.0.0.0' })).toThrow(
      /^CONSOLE_PASSWORD_FILE: /,
    );
    expect(() =>
      loadConsoleConfig({ CONSOLE_HOST: '0.0.0.0', CONSOLE_PUBLISHED_HOST: '192.168.1.5' }),
    ).toThrow(/CONSOLE_PASSWORD_FILE/);
    expect(
      loadConsoleConfig({ CONSOLE_HOST: '0.0.0.0', CONSOLE_PUBLISHED_HOST: '127.0.0.1' }).password,
    ).toBeUndefined();
    expect(() => loadConsoleConfig({ CONSOLE_PORT: 'eighty' })).toThrow(/^CONSOLE_PORT: /);

    const db = await sqliteDatabase(dir);
    await seedConsoleFleet(db.writer, { rollouts: true });
    const file = join(dir, 'console-password');
    writeFileSync(file, `${await hashPassword('correct horse battery')}\n`);
    const { url } = await startConsole(
      { ...(await db.readOnlyEnv()), CONSOLE_PASSWORD_FILE: file },
      () => FLEET_NOW,
    );
    const basic = (pw: string) => ({
      authorization: `Basic ${Buffer.from(`ops:${pw}`).toString('base64')}`,
    });
    const none = await fetch(`${url}/api/fleet`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect((await fetch(`${url}/api/fleet`, { headers: basic('wrong') })).status).toBe(401);
    expect(
      (await fetch(`${url}/api/fleet`, { headers: basic('correct horse battery') })).status,
    ).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    writeFileSync(file, 'hunter2\n');
    expect(() => loadConsoleConfig({ CONSOLE_PASSWORD_FILE: file })).toThrow(
      /^CONSOLE_PASSWORD_FILE: /,
    );
  });
});

describe('console while PostgreSQL is down', () => {
  it('answers 503 without falling over, and serves again once the database is back', async () => {
    const db = await postgresDatabase();
    try {
      await seedConsoleFleet(db.writer, { rollouts: true });
      const { url } = await startConsole(await db.readOnlyEnv(), () => FLEET_NOW);
      expect((await fetch(`${url}/api/fleet`)).status).toBe(200);
      await db.pg.pause();
      const down = await get(`${url}/api/fleet`);
      expect(down.status).toBe(503);
      expect(down.body).toEqual({ error: 'the central database could not be read' });
      // The page itself needs no database: it loads and says it could not refresh.
      expect((await fetch(`${url}/`)).status).toBe(200);
      await db.pg.resume();
      expect((await get(`${url}/api/releases`)).status).toBe(200);
    } finally {
      await db.destroy();
    }
  });
});

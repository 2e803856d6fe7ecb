import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAppConfig } from '../../app/config.js';
import { ConfigError } from '../../common/config-error.js';

function failure(env: Record<string, string>): ConfigError {
  try {
    loadAppConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('app configuration', () => {
  it('runs alone with defaults: SQLite on the data volume, a device id from the hostname', () => {
    const config = loadAppConfig({});
    expect(config.db.client).toBe('sqlite');
    expect(config.db.file).toBe('/data/weather.db');
    expect(config.spoolFile).toBe('/data/spool.db');
    expect(config.deviceId).toMatch(/^standalone-/);
    expect(config.appVersion).toBe('0.0.0-dev');
    expect(config.intervalMs).toBe(10_000);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.db)).toBe(true);
  });

  it('takes the identity the agent gives the container', () => {
    const config = loadAppConfig({
      WEATHER_DEVICE_ID: 'pi-kitchen-3f2a',
      WEATHER_APP_VERSION: '1.4.2',
    });
    expect(config.deviceId).toBe('pi-kitchen-3f2a');
    expect(config.appVersion).toBe('1.4.2');
  });

  it.each([
    [{ WEATHER_INTERVAL_MS: 'fast' }, 'WEATHER_INTERVAL_MS', /integer from 100/],
    [{ WEATHER_INTERVAL_MS: '5' }, 'WEATHER_INTERVAL_MS', /integer from 100/],
    [{ WEATHER_DB_CLIENT: 'oracle' }, 'WEATHER_DB_CLIENT', /one of sqlite, mssql, postgres/],
    [{ WEATHER_DEVICE_ID: 'has spaces' }, 'WEATHER_DEVICE_ID', /letters, digits/],
    [{ WEATHER_DB_CLIENT: 'mssql' }, 'WEATHER_DB_HOST', /a value when WEATHER_DB_CLIENT=mssql/],
    [
      { WEATHER_DB_CLIENT: 'postgres', WEATHER_DB_HOST: 'db', WEATHER_DB_PORT: '99999' },
      'WEATHER_DB_PORT',
      /integer from 1 to 65535/,
    ],
    [{ WEATHER_DB_ENCRYPT: 'maybe' }, 'WEATHER_DB_ENCRYPT', /true or false/],
  ])('rejects %j naming %s', (env, variable, message) => {
    const err = failure(env);
    expect(err.variable).toBe(variable);
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(`${variable}:`)).toBe(true);
  });

  it('reads the database password from a file (a Docker secret) and encrypts SQL Server by default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'pw'), 's3cret\n');
    const config = loadAppConfig({
      WEATHER_DB_CLIENT: 'mssql',
      WEATHER_DB_HOST: 'example.database.windows.net',
      WEATHER_DB_NAME: 'weather',
      WEATHER_DB_USER: 'app',
      WEATHER_DB_PASSWORD_FILE: join(dir, 'pw'),
    });
    expect(config.db.password).toBe('s3cret');
    expect(config.db.encrypt).toBe(true);
    expect(config.db.port).toBe(1433);
  });

  it('names the file variable when the secret file is missing', () => {
    const err = failure({
      WEATHER_DB_CLIENT: 'postgres',
      WEATHER_DB_HOST: 'db',
      WEATHER_DB_NAME: 'weather',
      WEATHER_DB_USER: 'app',
      WEATHER_DB_PASSWORD_FILE: '/nonexistent/pw',
    });
    expect(err.variable).toBe('WEATHER_DB_PASSWORD_FILE');
  });
});

import { join } from 'node:path';
import { ConfigError } from './config-error.js';
import type { EnvReader } from './env-reader.js';

export type DbClient = 'sqlite' | 'mssql' | 'postgres';

export interface DbConfig {
  readonly client: DbClient;
  /** sqlite only */
  readonly file: string;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly database: string | undefined;
  readonly user: string | undefined;
  readonly password: string | undefined;
  /** mssql: encrypted connection (required by Azure SQL); postgres: TLS */
  readonly encrypt: boolean;
  readonly trustServerCertificate: boolean;
}

/**
 * The central database settings (WEATHER_DB_*), read by the app and, for its reports and the
 * fleet view, by the agent from the same variables. A bad value throws a ConfigError naming it.
 */
export function readDbConfig(read: EnvReader, dataDir: string): DbConfig {
  const client = read.oneOf<DbClient>(
    'WEATHER_DB_CLIENT',
    ['sqlite', 'mssql', 'postgres'],
    'sqlite',
  );
  const network = client !== 'sqlite';
  const need = (name: string): string => {
    const value = read.optional(name);
    if (network && value === undefined) {
      throw new ConfigError(name, `a value when WEATHER_DB_CLIENT=${client}`, undefined);
    }
    return value ?? '';
  };

  return Object.freeze({
    client,
    file: read.string('WEATHER_DB_FILE', join(dataDir, 'weather.db')),
    host: network ? need('WEATHER_DB_HOST') : undefined,
    port: network
      ? read.int('WEATHER_DB_PORT', client === 'mssql' ? 1433 : 5432, 1, 65535)
      : undefined,
    database: network ? need('WEATHER_DB_NAME') : undefined,
    user: network ? need('WEATHER_DB_USER') : undefined,
    password: network ? read.secret('WEATHER_DB_PASSWORD') : undefined,
    encrypt: read.bool('WEATHER_DB_ENCRYPT', client === 'mssql'),
    trustServerCertificate: read.bool('WEATHER_DB_TRUST_SERVER_CERTIFICATE', false),
  });
}

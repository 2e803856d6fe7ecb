import { hostname } from 'node:os';
import { join } from 'node:path';
import { type DbConfig, readDbConfig } from '../common/db-config.js';
import { envReader } from '../common/env-reader.js';

export interface AppConfig {
  readonly deviceId: string;
  readonly appVersion: string;
  readonly hostname: string;
  readonly intervalMs: number;
  readonly dataDir: string;
  readonly spoolFile: string;
  readonly uploadIntervalMs: number;
  readonly uploadBatchSize: number;
  readonly uploadMaxBackoffMs: number;
  readonly spoolKeepHours: number;
  readonly retentionDays: number;
  readonly healthFile: string;
  readonly shutdownTimeoutMs: number;
  readonly logLevel: string;
  readonly seed: number | undefined;
  readonly db: DbConfig;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

/** Reads and validates the app's settings once; a bad value throws a ConfigError naming it. */
export function loadAppConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const read = envReader(env);
  const host = hostname();
  const dataDir = read.string('WEATHER_DATA_DIR', '/data');
  const db = readDbConfig(read, dataDir);

  const intervalMs = read.int('WEATHER_INTERVAL_MS', 10_000, 100, 86_400_000);
  const seed = read.optional('WEATHER_SEED');

  return Object.freeze({
    deviceId: read.matching(
      'WEATHER_DEVICE_ID',
      ID_PATTERN,
      '1-64 letters, digits, ".", "_", ":" or "-"',
      `standalone-${host}`.slice(0, 64),
    ),
    appVersion: read.matching(
      'WEATHER_APP_VERSION',
      VERSION_PATTERN,
      'a version such as 1.4.2',
      '0.0.0-dev',
    ),
    hostname: host,
    intervalMs,
    dataDir,
    spoolFile: read.string('WEATHER_SPOOL_FILE', join(dataDir, 'spool.db')),
    uploadIntervalMs: read.int('WEATHER_UPLOAD_INTERVAL_MS', 5_000, 50, 3_600_000),
    uploadBatchSize: read.int('WEATHER_UPLOAD_BATCH', 500, 1, 10_000),
    uploadMaxBackoffMs: read.int('WEATHER_UPLOAD_MAX_BACKOFF_MS', 60_000, 100, 3_600_000),
    spoolKeepHours: read.int('WEATHER_SPOOL_KEEP_HOURS', 24, 0, 24 * 365),
    retentionDays: read.int('WEATHER_RETENTION_DAYS', 0, 0, 36_500),
    healthFile: read.string('WEATHER_HEALTH_FILE', '/tmp/weather-health.json'),
    shutdownTimeoutMs: read.int('WEATHER_SHUTDOWN_TIMEOUT_MS', 3_000, 0, 60_000),
    logLevel: read.oneOf(
      'WEATHER_LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      'info',
    ),
    seed: seed === undefined ? undefined : read.int('WEATHER_SEED', 0, 0),
    db,
  });
}

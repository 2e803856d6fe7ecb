import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError } from '../../common/config-error.js';
import { type DbConfig, readDbConfig } from '../../common/db-config.js';
import { envReader } from '../../common/env-reader.js';
import { type PasswordHash, parsePasswordHash } from './password.js';

export interface ConsoleConfig {
  readonly host: string;
  readonly port: number;
  /** Set when CONSOLE_PASSWORD_FILE is: every request then needs the password. */
  readonly password: PasswordHash | undefined;
  /** A device whose app has not written for this long is shown as stale. */
  readonly staleAfterMs: number;
  /** How often the pages fetch their data again. */
  readonly refreshMs: number;
  readonly logLevel: string;
  readonly db: DbConfig;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/**
 * Reads and validates the console's settings once. The database settings are the app's own
 * (WEATHER_DB_*, the same variables mean the same); a bad value throws a ConfigError naming it.
 */
export function loadConsoleConfig(
  env: Record<string, string | undefined> = process.env,
): ConsoleConfig {
  const read = envReader(env);
  const fleetDb = readDbConfig(read, read.string('WEATHER_DATA_DIR', '/data'));
  // The console's own read-only login, when given, instead of the one the fleet writes with.
  const user = read.optional('CONSOLE_DB_USER');
  const db: DbConfig =
    user === undefined || fleetDb.client === 'sqlite'
      ? fleetDb
      : { ...fleetDb, user, password: read.secret('CONSOLE_DB_PASSWORD') };
  const host = read.string('CONSOLE_HOST', '127.0.0.1');
  if (host !== '0.0.0.0' && host !== '::' && host !== 'localhost' && isIP(host) === 0) {
    throw new ConfigError('CONSOLE_HOST', 'an IP address such as 127.0.0.1', host);
  }
  const passwordFile = read.optional('CONSOLE_PASSWORD_FILE');
  const password = passwordFile === undefined ? undefined : readHash(passwordFile);
  // In a container the console listens on every interface and compose publishes the port on
  // the host: what is reachable from outside is the published address, which compose passes.
  const published = read.optional('CONSOLE_PUBLISHED_HOST');
  const exposed = published ?? host;
  if (password === undefined && !isLoopback(exposed)) {
    throw new ConfigError(
      'CONSOLE_PASSWORD_FILE',
      `a password hash file (npm run hash-password) when the console is reachable on ${exposed}, not only on loopback`,
      undefined,
    );
  }
  return Object.freeze({
    host,
    port: read.int('CONSOLE_PORT', 8080, 0, 65535),
    password,
    staleAfterMs: read.duration('CONSOLE_STALE_AFTER', 10 * 60_000, 10_000, 30 * 86_400_000),
    refreshMs: read.duration('CONSOLE_REFRESH', 10_000, 1_000, 3_600_000),
    logLevel: read.oneOf(
      'CONSOLE_LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      'info',
    ),
    db,
  });
}

function readHash(file: string): PasswordHash {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(
      'CONSOLE_PASSWORD_FILE',
      'a readable file',
      `${file} (${(err as Error).message})`,
    );
  }
  const hash = parsePasswordHash(text);
  if (!hash) {
    throw new ConfigError(
      'CONSOLE_PASSWORD_FILE',
      'a file holding one line printed by `npm run hash-password` (scrypt$...)',
      file,
    );
  }
  return hash;
}

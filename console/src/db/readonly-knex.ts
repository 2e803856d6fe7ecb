import type { Knex } from 'knex';
import type { DbConfig } from '../../../common/db-config.js';
import { knexConnection } from '../../../common/knex-connection.js';

type Done = (err: Error | null, conn?: unknown) => void;

/** Where knex's own messages go (lost connections, pool errors): the console's logger. */
export interface KnexLogSink {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

function knexLog(log: KnexLogSink | undefined): Knex.Config['log'] {
  if (!log) return undefined;
  const text = (m: unknown) => (m instanceof Error ? m.message : String(m));
  return {
    warn: (m: unknown) => log.warn({ knex: text(m) }, 'database driver warning'),
    error: (m: unknown) => log.error({ knex: text(m) }, 'database driver error'),
    deprecate: (m: unknown) => log.warn({ knex: text(m) }, 'database driver deprecation'),
    debug: () => undefined,
  };
}

/**
 * Knex settings that cannot write: SQLite opened read-only (no journal-mode change either:
 * the app owns the file), PostgreSQL sessions set to read-only transactions on top of whatever
 * the role allows. The console needs only SELECT; give it a role with nothing more (README,
 * "Console").
 */
export function readOnlyKnexConfig(db: DbConfig, log?: KnexLogSink): Knex.Config {
  return { ...readOnlyConnection(db), log: knexLog(log) };
}

function readOnlyConnection(db: DbConfig): Knex.Config {
  switch (db.client) {
    case 'sqlite':
      return {
        client: 'better-sqlite3',
        connection: { filename: db.file, options: { readonly: true } },
        useNullAsDefault: true,
        acquireConnectionTimeout: 10_000,
        pool: {
          min: 1,
          max: 1,
          afterCreate: (conn: { pragma(s: string): unknown }, done: Done) => {
            // The app and the agents write while we read.
            conn.pragma('busy_timeout = 10000');
            done(null, conn);
          },
        },
      };
    case 'postgres': {
      const base = knexConnection(db, 'ota-console');
      return {
        ...base,
        pool: {
          min: 0,
          max: 4,
          afterCreate: (
            conn: { query(sql: string, cb: (err: Error | null) => void): void },
            done: Done,
          ) => {
            conn.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY', (err) =>
              done(err, conn),
            );
          },
        },
      };
    }
    case 'mssql':
      // SQL Server has no per-session read-only switch: the login's permissions decide.
      return knexConnection(db, 'ota-console');
  }
}

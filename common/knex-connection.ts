import type { Knex } from 'knex';
import type { DbConfig } from './db-config.js';
import { enableWal, type PragmaConnection } from './sqlite-wal.js';

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Turns the validated database settings into a knex configuration (no migrations: the app and
 * the agent's reporter each bring their own); main.ts calls knex() with it.
 */
export function knexConnection(db: DbConfig, appName: string): Knex.Config {
  const common = { acquireConnectionTimeout: CONNECT_TIMEOUT_MS };
  switch (db.client) {
    case 'sqlite':
      return {
        ...common,
        client: 'better-sqlite3',
        connection: { filename: db.file },
        useNullAsDefault: true,
        pool: {
          min: 1,
          max: 1,
          // Old and new app containers may share this file during an update.
          afterCreate: (
            conn: PragmaConnection & { close(): unknown },
            done: (err: Error | null) => void,
          ) => {
            try {
              conn.pragma('busy_timeout = 10000');
              enableWal(conn);
              done(null);
            } catch (err) {
              // knex drops a connection whose set-up failed without closing it.
              conn.close();
              done(err as Error);
            }
          },
        },
      };
    case 'mssql':
      return {
        ...common,
        client: 'mssql',
        connection: {
          server: db.host ?? '',
          port: db.port,
          database: db.database,
          user: db.user,
          password: db.password,
          connectionTimeout: CONNECT_TIMEOUT_MS,
          requestTimeout: 30_000,
          options: {
            encrypt: db.encrypt,
            trustServerCertificate: db.trustServerCertificate,
            appName,
          },
        },
        pool: { min: 0, max: 2 },
      };
    case 'postgres':
      return {
        ...common,
        client: 'pg',
        connection: {
          host: db.host,
          port: db.port,
          database: db.database,
          user: db.user,
          password: db.password,
          ssl: db.encrypt ? { rejectUnauthorized: !db.trustServerCertificate } : false,
          connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        },
        pool: { min: 0, max: 2 },
      };
  }
}

import { join } from 'node:path';
import knex, { type Knex } from 'knex';
import { TestPostgres } from './postgres.js';

/**
 * A central database to seed for the console tests, and the environment the console reads it
 * with: a SQLite file, or a real PostgreSQL where the console logs in as a role that may only
 * SELECT (created after seeding, so it can read every table the fleet made).
 */
export interface SeededDatabase {
  readonly name: 'sqlite' | 'postgres';
  /** A read-write connection for seeding (as the app and the agents write). */
  readonly writer: Knex;
  /** Call after seeding: grants SELECT on what exists and returns the console's environment. */
  readOnlyEnv(): Promise<Record<string, string>>;
  destroy(): Promise<void>;
}

export async function sqliteDatabase(dir: string): Promise<SeededDatabase> {
  const file = join(dir, 'central.db');
  const writer = knex({
    client: 'better-sqlite3',
    connection: { filename: file },
    useNullAsDefault: true,
  });
  return {
    name: 'sqlite',
    writer,
    async readOnlyEnv() {
      // Close the writer: the console then reads a file nobody has open.
      await writer.destroy();
      return { WEATHER_DB_CLIENT: 'sqlite', WEATHER_DB_FILE: file };
    },
    async destroy() {
      await writer.destroy();
    },
  };
}

export const CONSOLE_ROLE = 'console_reader';

export async function postgresDatabase(): Promise<SeededDatabase & { pg: TestPostgres }> {
  const pg = await TestPostgres.start();
  const writer = knex({
    client: 'pg',
    connection: { host: '127.0.0.1', port: pg.port, user: 'postgres', database: 'postgres' },
  });
  return {
    name: 'postgres',
    pg,
    writer,
    async readOnlyEnv() {
      await writer.raw(`CREATE ROLE ${CONSOLE_ROLE} LOGIN`);
      await writer.raw(`GRANT USAGE ON SCHEMA public TO ${CONSOLE_ROLE}`);
      await writer.raw(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${CONSOLE_ROLE}`);
      // PostgreSQL 15 lets every role create in public only when granted: make sure it cannot.
      await writer.raw(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
      // The fleet's login stays in WEATHER_DB_USER; the console's own overrides it.
      return { ...pg.env, CONSOLE_DB_USER: CONSOLE_ROLE };
    },
    async destroy() {
      await writer.destroy();
      await pg.destroy();
    },
  };
}

import type { Knex } from 'knex';
import type { DbConfig } from '../../common/db-config.js';
import { knexConnection } from '../../common/knex-connection.js';
import { appMigrations } from './migrations/index.js';

/** The app's central database: the shared connection settings plus the app's migrations. */
export function knexConfig(db: DbConfig): Knex.Config {
  return { ...knexConnection(db, 'weather-app'), migrations: appMigrations };
}

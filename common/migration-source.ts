import type { Knex } from 'knex';

/**
 * A knex migration source over migrations listed in code rather than found on disk, so the
 * same list works from .ts in tests and from compiled .js in an image. Names sort by their
 * timestamp prefix; append new migrations, never edit or reorder old ones.
 */
export function migrationsInCode(
  migrations: Readonly<Record<string, Knex.Migration>>,
): Knex.MigrationSource<string> {
  return {
    getMigrations: async () => Object.keys(migrations).sort(),
    getMigrationName: (name) => name,
    getMigration: async (name) => {
      const migration = migrations[name];
      if (!migration) throw new Error(`unknown migration ${name}`);
      return migration;
    },
  };
}

/**
 * Migrator settings for a database that several versions of the code write to at once: the
 * central database, shared by a fleet in a staged rollout and by a device that rolled back.
 * knex normally refuses to run when the database records a migration the code does not list
 * ("the migration directory is corrupt"); an older version would then never upload again.
 * With list validation off, knex runs only the listed migrations the database lacks and
 * ignores the ones it does not know. That is safe only because every migration is
 * expand-only (see README, "Changing the central database"): a newer version adds nullable
 * or defaulted columns and new tables, so older code's reads and inserts keep working and the
 * columns it does not know keep their defaults.
 */
export function sharedMigrations(
  tableName: string,
  migrations: Readonly<Record<string, Knex.Migration>>,
): Knex.MigratorConfig {
  return {
    tableName,
    migrationSource: migrationsInCode(migrations),
    disableMigrationsListValidation: true,
  };
}

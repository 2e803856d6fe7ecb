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

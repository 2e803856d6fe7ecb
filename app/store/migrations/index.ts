import type { Knex } from 'knex';
import * as devicesAndReadings from './20261123000000_devices_and_readings.js';

// Listed in code rather than found on disk, so the same list works from .ts in tests and from
// compiled .js in the image. Append new migrations; never edit or reorder old ones.
const migrations: Record<string, Knex.Migration> = {
  '20261123000000_devices_and_readings': devicesAndReadings,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const migration = migrations[name];
    if (!migration) throw new Error(`unknown migration ${name}`);
    return migration;
  },
};

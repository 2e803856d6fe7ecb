import type { Knex } from 'knex';
import * as agentState from './20261123120000_agent_state.js';

// Listed in code so the same list works from .ts in tests and compiled .js in the image.
// Append new migrations; never edit or reorder old ones.
const migrations: Record<string, Knex.Migration> = {
  '20261123120000_agent_state': agentState,
};

export const agentMigrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const migration = migrations[name];
    if (!migration) throw new Error(`unknown migration ${name}`);
    return migration;
  },
};

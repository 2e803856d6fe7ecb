import { migrationsInCode } from '../../../app/store/migration-source.js';
import * as agentState from './20261123120000_agent_state.js';

export const agentMigrationSource = migrationsInCode({
  '20261123120000_agent_state': agentState,
});

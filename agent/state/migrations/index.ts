import { migrationsInCode } from '../../../common/migration-source.js';
import * as agentState from './20261123120000_agent_state.js';
import * as deviceRecord from './20261124090000_device_record.js';
import * as remoteActions from './20261124150000_remote_actions.js';
import * as agentLeader from './20261124200000_agent_leader.js';

export const agentMigrationSource = migrationsInCode({
  '20261123120000_agent_state': agentState,
  '20261124090000_device_record': deviceRecord,
  '20261124150000_remote_actions': remoteActions,
  '20261124200000_agent_leader': agentLeader,
});

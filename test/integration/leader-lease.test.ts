import { join } from 'node:path';
import knex from 'knex';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Handover } from '../../agent/self/handover-record.js';
import { AgentState } from '../../agent/state/agent-state.js';
import * as agentState from '../../agent/state/migrations/20261123120000_agent_state.js';
import * as deviceRecord from '../../agent/state/migrations/20261124090000_device_record.js';
import * as remoteActions from '../../agent/state/migrations/20261124150000_remote_actions.js';
import { migrationsInCode } from '../../common/migration-source.js';
import { tempDir } from '../helpers/temp-dir.js';

// The lease two agents share during a self-update: two AgentState instances (two connections,
// as the old and the new agent's processes have) on one real SQLite state file.

async function openState(file: string) {
  const state = new AgentState(knex(AgentState.knexConfig(file)));
  await state.migrate();
  onTestFinished(() => state.close().catch(() => undefined));
  return state;
}

const OLD = 'a'.repeat(64);
const NEW = 'b'.repeat(64);
const handover: Handover & { candidate: string } = {
  version: '1.1.0',
  commit: 'c0ffee',
  image: 'sha256:1',
  ref: 'edge-ota/agent:1.1.0',
  from: OLD,
  fromImage: 'sha256:0',
  name: 'ota-agent',
  composeImage: 'ota-agent:local',
  candidate: NEW,
  phase: 'starting',
  row: 1,
};

describe('the leader lease on the shared state file', () => {
  it('of two agents claiming an empty lease, the second does not get it', async () => {
    const file = join(tempDir(), 'agent.db');
    const [one, two] = [await openState(file), await openState(file)];
    const won = await Promise.all([one.lease.claim(OLD, null), two.lease.claim(NEW, null)]);
    expect(won.filter(Boolean)).toHaveLength(1);
    expect((await one.lease.read())?.container).toBe(won[0] ? OLD : NEW);
  });

  it('only the holder records a hand-over or passes charge, and passing is compare-and-set', async () => {
    const file = join(tempDir(), 'agent.db');
    const [old, next] = [await openState(file), await openState(file)];
    expect(await old.lease.claim(OLD, null)).toBe(true);
    expect(await next.lease.setHandover(NEW, handover)).toBe(false);
    expect(await old.lease.setHandover(OLD, handover)).toBe(true);
    expect((await next.lease.read())?.handover).toEqual(handover);

    expect(await old.lease.pass(OLD, handover)).toBe(true);
    const after = await next.lease.read();
    expect(after).toEqual({ container: NEW, handover: { ...handover, phase: 'handing-over' } });
    // The old agent, restarted, cannot act as holder any more.
    expect(await old.lease.pass(OLD, handover)).toBe(false);
    expect(await old.lease.setHandover(OLD, null)).toBe(false);
    expect(await old.lease.claim(OLD, 'c'.repeat(64))).toBe(false);
    // A holder whose container is gone is replaced only over the holder seen.
    expect(await old.lease.claim(OLD, NEW)).toBe(true);
    expect((await next.lease.read())?.container).toBe(OLD);
  });

  it('an agent from before self-update still runs on a state file a newer one migrated', async () => {
    const file = join(tempDir(), 'agent.db');
    const newer = await openState(file);
    expect(await newer.lease.claim(OLD, null)).toBe(true);
    await newer.update((r) => ({ ...r, pinned: '1.0.0' }));
    // The older agent's knex: the same settings, the migrations it knew (no agent_leader).
    const config = AgentState.knexConfig(file);
    const older = new AgentState(
      knex({
        ...config,
        migrations: {
          ...config.migrations,
          migrationSource: migrationsInCode({
            '20261123120000_agent_state': agentState,
            '20261124090000_device_record': deviceRecord,
            '20261124150000_remote_actions': remoteActions,
          }),
        },
      }),
    );
    onTestFinished(() => older.close().catch(() => undefined));
    await older.migrate();
    expect((await older.record()).pinned).toBe('1.0.0');
    const row = await older.startDeployment({
      from: null,
      to: '1.0.0',
      commit: null,
      kind: 'switch',
    });
    await older.finishDeployment(row, 'succeeded');
    expect((await newer.history(1))[0]).toMatchObject({ to: '1.0.0', outcome: 'succeeded' });
  });
});

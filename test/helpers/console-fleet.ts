import type { Knex } from 'knex';
import { migrateCentral, writeDeployment, writeDevice, writeReadings } from './central-seed.js';
import { writeRollout } from './rollout-rows.js';

/**
 * A small fleet for the console tests, with one of each thing the pages must show:
 * - 1.2.0 rolls out to the lab group with halt criteria, and halted after 2 of 3 failed;
 * - pi-ok switched to 1.2.0 (readings from 1.1.0, then from 1.2.0: the chart's version mark);
 * - pi-failed failed 1.2.0, pi-rolled rolled it back (two grouped failure reasons);
 * - pi-stale was last seen two days ago and waits behind the halt;
 * - pi-pinned is pinned to 1.0.0; pi-beta follows the beta channel; pi-noagent has no agent;
 *   pi-newbox has an agent but its app has not written yet.
 */
// The start of the current minute: the server's clock in the tests, and near the browser's.
export const FLEET_NOW = Math.floor(Date.now() / 60_000) * 60_000;
export const SWITCH_AT = FLEET_NOW - 12 * 3_600_000;
export const READINGS = { start: FLEET_NOW - 24 * 3_600_000, count: 24 * 12, stepMs: 300_000 };
export const HALT_REASON = '2 of 3 devices failed';
export const FAILED_REASON = 'not healthy within 120 s';
export const ROLLED_REASON = 'unhealthy in the watch window';

const minutesAgo = (m: number) => new Date(FLEET_NOW - m * 60_000);

export async function seedConsoleFleet(db: Knex, opts: { rollouts: boolean }): Promise<void> {
  await migrateCentral(db, { beforeHalts: !opts.rollouts });
  const lab = { groups: ['lab'] };
  await writeDevice(db, { id: 'pi-ok', version: '1.2.0', lastSeen: minutesAgo(1), agent: lab });
  await writeDevice(db, { id: 'pi-failed', version: '1.1.0', lastSeen: minutesAgo(2), agent: lab });
  await writeDevice(db, { id: 'pi-rolled', version: '1.1.0', lastSeen: minutesAgo(1), agent: lab });
  await writeDevice(db, {
    id: 'pi-stale',
    version: '1.1.0',
    lastSeen: minutesAgo(2 * 24 * 60),
    agent: lab,
  });
  await writeDevice(db, {
    id: 'pi-pinned',
    version: '1.0.0',
    lastSeen: minutesAgo(1),
    agent: { groups: ['field'], pinned: '1.0.0' },
  });
  await writeDevice(db, {
    id: 'pi-beta',
    version: '1.3.0-beta.1',
    lastSeen: minutesAgo(1),
    agent: { groups: ['lab'], channel: 'beta' },
  });
  await writeDevice(db, {
    id: 'pi-noagent',
    version: '1.1.0',
    lastSeen: minutesAgo(3),
    status: 'stopped',
  });
  // Its agent reported, its app never wrote (e.g. the app has not started yet).
  await writeDevice(db, {
    id: 'pi-newbox',
    version: '1.2.0',
    lastSeen: minutesAgo(1),
    agent: { groups: ['field'] },
    appWrote: false,
  });

  const at = (ms: number) => new Date(ms);
  const sw = (to: string, outcome: string | null, reason: string | null, start: number) => ({
    from_version: '1.1.0',
    to_version: to,
    outcome,
    reason,
    started_at: at(start),
    finished_at: outcome ? at(start + 60_000) : null,
  });
  for (const id of ['pi-ok', 'pi-failed', 'pi-rolled', 'pi-stale']) {
    await writeDeployment(db, id, 1, {
      ...sw('1.1.0', 'succeeded', null, FLEET_NOW - 5 * 86_400_000),
      from_version: null,
    });
  }
  await writeDeployment(db, 'pi-ok', 2, sw('1.2.0', 'succeeded', null, SWITCH_AT - 60_000));
  await writeDeployment(db, 'pi-failed', 2, sw('1.2.0', 'failed', FAILED_REASON, SWITCH_AT));
  await writeDeployment(db, 'pi-rolled', 2, sw('1.2.0', 'rolled-back', ROLLED_REASON, SWITCH_AT));
  await writeDeployment(db, 'pi-rolled', 3, {
    ...sw('1.1.0', 'succeeded', ROLLED_REASON, SWITCH_AT + 120_000),
    from_version: '1.2.0',
    kind: 'auto-rollback',
  });

  await writeReadings(db, 'pi-ok', {
    ...READINGS,
    versionAt: (t) => (t < SWITCH_AT ? '1.1.0' : '1.2.0'),
  });
  await writeReadings(db, 'pi-failed', { ...READINGS, versionAt: () => '1.1.0' });

  if (!opts.rollouts) return;
  await writeRollout(db, {
    version: '1.2.0',
    policy: {
      percent: 100,
      groups: ['lab'],
      withdrawn: false,
      halt: { failedPercent: 20, minDevices: 3 },
    },
    tried: 3,
    failed: 2,
    haltedAt: at(SWITCH_AT + 600_000),
    haltReason: HALT_REASON,
    updatedAt: at(SWITCH_AT + 600_000),
    updatedBy: 'pi-rolled',
  });
  await writeRollout(db, {
    version: '1.1.0',
    policy: { percent: 100, withdrawn: false },
    tried: 4,
    failed: 0,
    updatedAt: at(FLEET_NOW - 5 * 86_400_000),
    updatedBy: 'pi-ok',
  });
}

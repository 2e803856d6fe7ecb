import type { Knex } from 'knex';
import {
  migrateCentral,
  writeDeployment,
  writeDevice,
  writeReadings,
} from '../../test/helpers/central-seed.js';
import { writeRollout } from '../../test/helpers/rollout-rows.js';

export const YEAR_DEVICE = 'pi-0000';
export const YEAR_READINGS = 525_600;
const MINUTE = 60_000;

/**
 * The console bench's central database: `devices` devices that ran 1.0.0 and 1.1.0 and are
 * rolling out 1.2.0 (halted after failures), and one device with a year of readings at one a
 * minute, produced by three versions in turn. Written with the app's and agents' own
 * migrations and statement builders.
 */
export async function seedBenchFleet(db: Knex, devices: number, now: number, chunk: number) {
  await migrateCentral(db);
  const groups = ['lab', 'field', 'roof', 'north', 'south'];
  await db.transaction(async (trx) => {
    for (let i = 0; i < devices; i++) {
      const id = `pi-${String(i).padStart(4, '0')}`;
      const onNew = i % 10 < 3;
      const failed = onNew && i % 7 === 0;
      await writeDevice(trx, {
        id,
        version: onNew && !failed ? '1.2.0' : '1.1.0',
        lastSeen: new Date(now - (i % 50 === 0 ? 86_400_000 : (i % 5) * MINUTE)),
        agent: {
          groups: [groups[i % groups.length] ?? 'lab'],
          pinned: i % 97 === 0 ? '1.1.0' : undefined,
        },
      });
      const day = 86_400_000;
      const sw = (
        to: string,
        from: string | null,
        outcome: string | null,
        at: number,
        reason: string | null,
      ) => ({
        from_version: from,
        to_version: to,
        outcome,
        reason,
        started_at: new Date(at),
        finished_at: outcome ? new Date(at + MINUTE) : null,
      });
      await writeDeployment(trx, id, 1, sw('1.0.0', null, 'succeeded', now - 300 * day, null));
      await writeDeployment(trx, id, 2, sw('1.1.0', '1.0.0', 'succeeded', now - 100 * day, null));
      if (onNew) {
        const outcome = failed ? (i % 2 ? 'failed' : 'rolled-back') : 'succeeded';
        const reason = failed
          ? i % 2
            ? 'not healthy within 120 s'
            : 'unhealthy in the watch window'
          : null;
        await writeDeployment(trx, id, 3, sw('1.2.0', '1.1.0', outcome, now - 2 * day, reason));
      }
    }
  });
  await writeRollout(db, {
    version: '1.2.0',
    policy: { percent: 50, withdrawn: false, halt: { failedPercent: 10, minDevices: 20 } },
    tried: 300,
    failed: 43,
    haltedAt: new Date(now - 86_400_000),
    haltReason: '43 of 300 devices failed',
    updatedAt: new Date(now - 86_400_000),
    updatedBy: 'pi-0001',
  });
  const start = now - YEAR_READINGS * MINUTE;
  await writeReadings(db, YEAR_DEVICE, {
    start,
    count: YEAR_READINGS,
    stepMs: MINUTE,
    chunk,
    versionAt: (t) =>
      t < start + 200 * 86_400_000 ? '1.0.0' : t < now - 2 * 86_400_000 ? '1.1.0' : '1.2.0',
  });
}

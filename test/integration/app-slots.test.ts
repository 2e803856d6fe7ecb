import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { monotonicMs } from '../../app/health.js';
import { readBootId, slotOf, slotReadingId } from '../../app/sensor/slot.js';
import { AppProcess } from '../helpers/app-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const INTERVAL = 250;
const DEVICE = 'pi-slots';

function env(dataDir: string, name: string, version: string) {
  return {
    WEATHER_DATA_DIR: dataDir,
    WEATHER_HEALTH_FILE: join(dataDir, `${name}-health.json`),
    WEATHER_DEVICE_ID: DEVICE,
    WEATHER_APP_VERSION: version,
    WEATHER_INTERVAL_MS: String(INTERVAL),
    WEATHER_UPLOAD_INTERVAL_MS: '500',
  };
}

interface Spooled {
  id: string;
  at: number;
  version: string;
}
function spooled(dataDir: string): Spooled[] {
  const db = new Database(join(dataDir, 'spool.db'), { readonly: true });
  try {
    return (db.prepare('SELECT id, payload FROM spool').all() as { payload: string }[])
      .map((r) => JSON.parse(r.payload) as { id: string; recordedAt: string; appVersion: string })
      .map((r) => ({ id: r.id, at: Date.parse(r.recordedAt), version: r.appVersion }))
      .sort((a, b) => a.at - b.at);
  } finally {
    db.close();
  }
}

/**
 * The slot each reading was taken for, found from its id: the ids of the slots around the
 * reading's time (wall clock mapped onto this boot's monotonic clock) are computed and matched.
 * A reading whose id is no slot's id (a random id) maps to undefined.
 */
function slotsOf(readings: Spooled[]): (number | undefined)[] {
  const { bootId } = readBootId();
  const offset = Date.now() - monotonicMs();
  return readings.map((r) => {
    const near = slotOf(r.at - offset, INTERVAL);
    for (let slot = near - 2; slot <= near + 2; slot++) {
      if (slotReadingId({ deviceId: DEVICE, bootId, intervalMs: INTERVAL }, slot) === r.id)
        return slot;
    }
    return undefined;
  });
}

describe('one reading per interval while two versions of the app run (real processes, one spool)', () => {
  it('the old and the new version sample side by side, and every interval has exactly one reading', async () => {
    const dataDir = tempDir();
    const old = new AppProcess(env(dataDir, 'old', '1.0.0'));
    await old.waitFor('started');
    await sleep(1_500);
    // A switch: the new version starts next to the old one, both sample for 3 s, the old stops.
    const next = new AppProcess(env(dataDir, 'new', '1.1.0'));
    await next.waitFor('started');
    await sleep(3_000);
    expect(await old.stop()).toBe(0);
    await sleep(1_500);
    expect(await next.stop()).toBe(0);

    const readings = spooled(dataDir);
    const slots = slotsOf(readings);
    // Every reading is the reading of one slot ...
    expect(slots.filter((s) => s === undefined)).toEqual([]);
    const numbers = slots as number[];
    // ... no slot has two (the spool would hold both: their ids would differ) ...
    expect(new Set(numbers).size).toBe(numbers.length);
    // ... and none between the first and the last is missing.
    const first = Math.min(...numbers);
    const last = Math.max(...numbers);
    expect(numbers.length).toBe(last - first + 1);
    expect(numbers.length).toBeGreaterThan(20);

    // Both really sampled during the overlap: every reading either process produced is one row
    // of the spool or a slot the other process had stored first. Which of the two got to a slot
    // first depends on scheduling (under load the new version often loses the race), so the
    // overlap is counted over both.
    const stopped = [old, next].map((p) => p.events.find((e) => e.msg === 'stopped'));
    const produced = stopped.map((e) => Number(e?.produced));
    const storedByOthers = stopped.map((e) => Number(e?.slotsStoredByOthers));
    const overlap = (storedByOthers[0] ?? 0) + (storedByOthers[1] ?? 0);
    expect((produced[0] ?? 0) + (produced[1] ?? 0)).toBe(numbers.length + overlap);
    expect(overlap).toBeGreaterThan(5);
    expect(new Set(readings.map((r) => r.version))).toEqual(new Set(['1.0.0', '1.1.0']));
  });
});

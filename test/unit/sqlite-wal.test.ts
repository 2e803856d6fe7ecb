import { describe, expect, it } from 'vitest';
import { enableWal } from '../../common/sqlite-wal.js';

function failing(codes: (string | undefined)[]) {
  const calls: string[] = [];
  return {
    calls,
    pragma(source: string) {
      calls.push(source);
      const code = codes.shift();
      if (code) throw Object.assign(new Error(`pragma failed: ${code}`), { code });
      return 'wal';
    },
  };
}

/** A clock the pauses move: each pause of n ms advances it by n. */
function pausedClock() {
  let t = 0;
  const pauses: number[] = [];
  return {
    pauses,
    pause: (ms: number) => {
      pauses.push(ms);
      t += ms;
    },
    now: () => t,
  };
}

describe('enableWal', () => {
  it('tries again while another process holds the lock, pausing in between', () => {
    const db = failing(['SQLITE_BUSY', 'SQLITE_BUSY_RECOVERY', undefined]);
    const clock = pausedClock();
    enableWal(db, clock.pause, clock.now);
    expect(db.calls).toEqual(Array(3).fill('journal_mode = WAL'));
    expect(clock.pauses).toHaveLength(2);
  });

  it('lets any other error through at once', () => {
    const db = failing(['SQLITE_CANTOPEN']);
    const clock = pausedClock();
    expect(() => enableWal(db, clock.pause, clock.now)).toThrow(/SQLITE_CANTOPEN/);
    expect(db.calls).toHaveLength(1);
  });

  it('gives up once a second has passed since the first try', () => {
    const db = failing(Array(1_000).fill('SQLITE_BUSY'));
    const clock = pausedClock();
    expect(() => enableWal(db, clock.pause, clock.now)).toThrow(/SQLITE_BUSY/);
    expect(clock.now()).toBeGreaterThanOrEqual(1_000);
    expect(clock.now()).toBeLessThan(1_100);
  });
});

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

describe('enableWal', () => {
  it('tries again while another process holds the lock, pausing in between', () => {
    const db = failing(['SQLITE_BUSY', 'SQLITE_BUSY', undefined]);
    const pauses: number[] = [];
    enableWal(db, (ms) => pauses.push(ms));
    expect(db.calls).toEqual(Array(3).fill('journal_mode = WAL'));
    expect(pauses).toHaveLength(2);
  });

  it('lets any other error through at once', () => {
    const db = failing(['SQLITE_CANTOPEN']);
    expect(() => enableWal(db, () => undefined)).toThrow(/SQLITE_CANTOPEN/);
    expect(db.calls).toHaveLength(1);
  });

  it('gives up after about a second of a lock that stays', () => {
    const db = failing(Array(100).fill('SQLITE_BUSY'));
    const pauses: number[] = [];
    expect(() => enableWal(db, (ms) => pauses.push(ms))).toThrow(/SQLITE_BUSY/);
    const waited = pauses.reduce((a, b) => a + b, 0);
    expect(waited).toBeGreaterThanOrEqual(500);
    expect(waited).toBeLessThanOrEqual(2_000);
  });
});

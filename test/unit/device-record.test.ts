import { describe, expect, it } from 'vitest';
import {
  type Change,
  clearFailed,
  committed,
  emptyRecord,
  GOOD_KEPT,
  markFailed,
  parseRecord,
  previousOf,
  watched,
  withGood,
} from '../../agent/state/device-record.js';

const slot = (version: string) => ({ version, commit: `c${version}`, image: `img:${version}` });
const change = (to: string, from: string | null, watch: boolean): Change => ({
  row: 7,
  kind: 'switch',
  from: from ? slot(from) : null,
  to: slot(to),
  phase: 'switching',
  watch,
});

describe('the device record', () => {
  it('reads a record written by a newer agent, keeping what it knows and defaulting the rest', () => {
    const stored = JSON.stringify({ running: slot('1.0.0'), somethingNewer: { x: 1 } });
    const record = parseRecord(stored);
    expect(record.running).toEqual(slot('1.0.0'));
    expect(record.good).toEqual([]);
    expect(record.change).toBeNull();
    expect(parseRecord(undefined)).toEqual(emptyRecord());
  });

  it('a switch with a watch counts as good only once the watch passed', () => {
    const before = { ...emptyRecord(), running: slot('1.0.0'), good: ['1.0.0'] };
    const during = committed(before, change('1.1.0', '1.0.0', true), 2);
    expect(during.running?.version).toBe('1.1.0');
    expect(during.good).toEqual(['1.0.0']);
    expect(during.watch).toMatchObject({ version: '1.1.0', watchedMs: 0, restarts: 2, row: 7 });
    expect(previousOf(during)).toBe('1.0.0');
    const after = watched(during, '1.1.0');
    expect(after.good).toEqual(['1.1.0', '1.0.0']);
    expect(after.watch).toBeNull();
  });

  it('previous is the newest good version that is neither running nor failed', () => {
    const record = markFailed(
      { ...emptyRecord(), running: slot('1.2.0'), good: ['1.2.0', '1.1.0', '1.0.0'] },
      '1.1.0',
      'rolled back by the operator',
    );
    expect(previousOf(record)).toBe('1.0.0');
    expect(previousOf(clearFailed(record, '1.1.0'))).toBe('1.1.0');
  });

  it('keeps a bounded, de-duplicated list of good versions', () => {
    let good: string[] = [];
    for (let i = 0; i < GOOD_KEPT + 20; i++) good = withGood(good, `1.0.${i % (GOOD_KEPT + 5)}`);
    expect(good).toHaveLength(GOOD_KEPT);
    expect(new Set(good).size).toBe(GOOD_KEPT);
    expect(good[0]).toBe(`1.0.${(GOOD_KEPT + 19) % (GOOD_KEPT + 5)}`);
  });
});

import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { KnownTags } from '../../agent/release/known-tags.js';
import type { RemoteTag } from '../../agent/release/release-source.js';
import { TagLedger } from '../../agent/release/tag-ledger.js';
import { tempDirForSuite } from '../helpers/temp-dir.js';

// When a release tag was first seen, on the monotonic clock (the pull grace counts from it):
// from the poll that first listed it in this run, or carried over from the ledger's wall-clock
// time for a tag an earlier run saw.
describe('KnownTags.firstSeenAt', () => {
  const dir = tempDirForSuite('ota-first-seen-');
  const MIN = 60_000;
  const tag = (name: string, commit: string): RemoteTag => ({ name, commit, object: commit });
  const sha = (n: number) => n.toString(16).padStart(40, '0');
  const clocks = () => {
    const c = { wall: Date.parse('2026-11-24T10:00:00Z'), mono: 1_000 };
    return { c, now: () => c.wall, monotonic: () => c.mono };
  };
  const known = (file: string, clock: ReturnType<typeof clocks>) =>
    new KnownTags(
      new TagLedger(file),
      { channel: 'stable', acceptMovedTags: false, now: clock.now, monotonic: clock.monotonic },
      pino({ level: 'silent' }),
    );

  it('gives each tag the monotonic time of the poll that first listed it', () => {
    const clock = clocks();
    const tags = known(join(dir, 'polls.json'), clock);
    tags.candidates([tag('v1.0.0', sha(1)), tag('v1.1.0', sha(2))]);
    clock.c.wall += 5 * MIN;
    clock.c.mono += 2 * MIN; // the wall clock jumped: the monotonic one tells the time passed
    tags.candidates([tag('v1.0.0', sha(1)), tag('v1.1.0', sha(2)), tag('v1.2.0', sha(3))]);
    clock.c.mono += MIN;
    tags.candidates([tag('v1.0.0', sha(1)), tag('v1.1.0', sha(2)), tag('v1.2.0', sha(3))]);
    expect(tags.firstSeenAt('v1.0.0')).toBe(1_000);
    expect(tags.firstSeenAt('v1.1.0')).toBe(1_000);
    expect(tags.firstSeenAt('v1.2.0')).toBe(1_000 + 2 * MIN);
    expect(tags.firstSeenAt('v9.9.9')).toBeUndefined();
  });

  it('keeps each poll its own sighting when the wall clock repeats a millisecond', () => {
    const clock = clocks();
    const tags = known(join(dir, 'same-ms.json'), clock);
    tags.candidates([tag('v3.0.0', sha(30))]);
    clock.c.mono += MIN; // the same wall-clock millisecond (a stalled clock), a minute later
    tags.candidates([tag('v3.0.0', sha(30)), tag('v3.1.0', sha(31))]);
    clock.c.wall += 10 * MIN;
    clock.c.mono += MIN;
    tags.candidates([tag('v3.0.0', sha(30)), tag('v3.1.0', sha(31)), tag('v3.2.0', sha(32))]);
    clock.c.wall -= 10 * MIN; // stepped back onto the first poll's millisecond
    clock.c.mono += MIN;
    tags.candidates([tag('v3.0.0', sha(30)), tag('v3.3.0', sha(33))]);
    expect(tags.firstSeenAt('v3.0.0')).toBe(1_000);
    expect(tags.firstSeenAt('v3.1.0')).toBe(1_000 + MIN);
    expect(tags.firstSeenAt('v3.2.0')).toBe(1_000 + 2 * MIN);
    expect(tags.firstSeenAt('v3.3.0')).toBe(1_000 + 3 * MIN);
  });

  it('carries an earlier run over from the ledger, and keeps it for a tag back after deletion', () => {
    const file = join(dir, 'runs.json');
    const first = clocks();
    known(file, first).candidates([tag('v2.0.0', sha(20))]);
    // The next run: 10 minutes later by the wall clock, its monotonic clock starts afresh.
    const second = clocks();
    second.c.wall += 10 * MIN;
    second.c.mono = 50;
    const tags = known(file, second);
    expect(tags.firstSeenAt('v2.0.0')).toBe(50 - 10 * MIN);
    tags.forgetDeleted([], 'all');
    second.c.mono += MIN;
    second.c.wall += MIN;
    tags.candidates([tag('v2.0.0', sha(20)), tag('v2.1.0', sha(21))]);
    expect(tags.firstSeenAt('v2.0.0')).toBe(50 + MIN - 11 * MIN);
    expect(tags.firstSeenAt('v2.1.0')).toBe(50 + MIN);
  });
});

import { describe, expect, it } from 'vitest';
import { missingImageVerdict } from '../../agent/image/pull-grace.js';

const MIN = 60_000;

describe('a missing image in pull mode', () => {
  it('is transient for the grace time after the tag was first seen', () => {
    expect(missingImageVerdict(1_000, 1_000 + 3 * MIN, 10 * MIN)).toEqual({
      transient: true,
      leftMs: 7 * MIN,
    });
    // A clock that reads earlier than the sighting counts as no time waited.
    expect(missingImageVerdict(5_000, 1_000, 10 * MIN)).toEqual({
      transient: true,
      leftMs: 10 * MIN,
    });
  });

  it('is failed for good after it, saying how long and what to do', () => {
    expect(missingImageVerdict(0, 10 * MIN, 10 * MIN)).toEqual({
      transient: false,
      reason:
        'no image 10 min after the tag appeared (OTA_PULL_GRACE 10 min): push it, then ota retry the version',
    });
  });

  it('gets no grace when it is off or the first sighting is unknown', () => {
    expect(missingImageVerdict(0, 0, 0).transient).toBe(false);
    expect(missingImageVerdict(undefined, 0, 10 * MIN)).toEqual({
      transient: false,
      reason: 'no image (OTA_PULL_GRACE 10 min): push it, then ota retry the version',
    });
  });
});

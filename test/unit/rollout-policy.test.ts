import { describe, expect, it } from 'vitest';
import {
  admits,
  downgradeReason,
  heldAt,
  PolicyError,
  parsePolicy,
  rolloutBucket,
} from '../../agent/release/rollout-policy.js';

const ids = Array.from({ length: 10_000 }, (_, i) => `pi-${i.toString(36)}-${(i * 7919) % 10007}`);

describe('rollout buckets', () => {
  it.each([5, 25, 50, 100])(
    'give %i%% of 10,000 devices the release, within 2 points',
    (percent) => {
      const policy = parsePolicy(JSON.stringify({ releases: { '1.4.0': { percent } } }));
      const admitted = ids.filter(
        (id) => admits(policy, { id, groups: [] }, '1.4.0').allowed,
      ).length;
      expect(Math.abs((admitted / ids.length) * 100 - percent)).toBeLessThanOrEqual(2);
    },
  );

  it('only add devices when the percentage rises, and always answer the same', () => {
    let previous = new Set<string>();
    for (const percent of [1, 5, 10, 25, 50, 75, 100]) {
      const policy = parsePolicy(JSON.stringify({ releases: { '1.4.0': { percent } } }));
      const now = new Set(ids.filter((id) => admits(policy, { id, groups: [] }, '1.4.0').allowed));
      for (const id of previous) expect(now.has(id)).toBe(true);
      previous = now;
    }
    expect(rolloutBucket('pi-a', '1.4.0')).toBe(rolloutBucket('pi-a', '1.4.0'));
  });

  it('sample a different first set of devices for each release', () => {
    const first = (version: string) => new Set(ids.filter((id) => rolloutBucket(id, version) < 5));
    const a = first('1.4.0');
    const b = first('1.5.0');
    const overlap = [...a].filter((id) => b.has(id)).length;
    expect(overlap / a.size).toBeLessThan(0.2);
  });
});

describe('policy rules', () => {
  const policy = parsePolicy(
    JSON.stringify({
      releases: {
        '1.4.0': { percent: 100, groups: ['site-a'] },
        '1.3.1': { withdrawn: true },
      },
      holds: { 'site-b': '1.2.0' },
    }),
  );

  it('limits a release to groups', () => {
    expect(admits(policy, { id: 'x', groups: ['site-a'] }, '1.4.0')).toEqual({ allowed: true });
    expect(admits(policy, { id: 'x', groups: ['site-b'] }, '1.4.0')).toEqual({
      allowed: false,
      reason: '1.4.0 is limited to groups site-a',
    });
  });

  it('refuses a withdrawn release and allows releases it does not mention', () => {
    expect(admits(policy, { id: 'x', groups: [] }, '1.3.1')).toMatchObject({ allowed: false });
    expect(admits(policy, { id: 'x', groups: [] }, '1.2.0')).toEqual({ allowed: true });
  });

  it('holds a group at a version', () => {
    expect(heldAt(policy, ['site-b'])).toBe('1.2.0');
    expect(heldAt(policy, ['site-a'])).toBeUndefined();
  });

  it('explains why a device is not in yet', () => {
    const staged = parsePolicy(JSON.stringify({ releases: { '1.4.0': { percent: 0 } } }));
    expect(admits(staged, { id: 'x', groups: [] }, '1.4.0')).toEqual({
      allowed: false,
      reason: '1.4.0 is at 0%; this device is not in yet',
    });
  });

  it.each([
    ['not json', /not valid JSON/],
    ['[]', /must be a JSON object/],
    ['{"release": {}}', /unknown key "release"/],
    ['{"releases": {"v1.4": {}}}', /not a version/],
    ['{"releases": {"1.4.0": {"percent": 150}}}', /percent must be a number from 0 to 100/],
    ['{"releases": {"1.4.0": {"percent": "25"}}}', /percent must be a number/],
    ['{"releases": {"1.4.0": {"groups": "site-a"}}}', /groups must be a list/],
    ['{"releases": {"1.4.0": {"pecent": 5}}}', /unknown key "pecent"/],
    ['{"holds": {"site-b": 3}}', /must be a version/],
  ])('rejects %s as a whole', (text, message) => {
    expect(() => parsePolicy(text)).toThrow(PolicyError);
    expect(() => parsePolicy(text)).toThrow(message);
  });
});

describe('moving a device down', () => {
  const rules = (releases: object, holds: object = {}) =>
    parsePolicy(JSON.stringify({ releases, holds }));

  it('happens only for a withdrawal or a hold at another version', () => {
    expect(downgradeReason(rules({ '1.4.0': { withdrawn: true } }), [], '1.4.0')).toBe(
      '1.4.0 was withdrawn',
    );
    expect(downgradeReason(rules({}, { lab: '1.3.0' }), ['lab'], '1.4.0')).toBe(
      "this device's group is held at 1.3.0",
    );
    expect(downgradeReason(rules({}, { lab: '1.4.0' }), ['lab'], '1.4.0')).toBeUndefined();
  });

  it('never happens for a lowered percentage or a group rule that leaves the device out', () => {
    expect(downgradeReason(rules({ '1.4.0': { percent: 0 } }), [], '1.4.0')).toBeUndefined();
    expect(
      downgradeReason(rules({ '1.4.0': { groups: ['lab'] } }), ['site-a'], '1.4.0'),
    ).toBeUndefined();
  });
});

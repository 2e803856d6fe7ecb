import { describe, expect, it } from 'vitest';
import { rolloutBucket } from '../../agent/release/rollout-policy.js';
import type { DeploymentRow } from '../../console/src/db/fleet-queries.js';
import { whyBehind } from '../../console/src/model/fleet-view.js';
import { byVersionDesc, newestFor } from '../../console/src/model/known-versions.js';
import { admitted } from '../../console/src/model/release-view.js';
import { parseRecordedPolicy, type RolloutState } from '../../console/src/model/rollout-state.js';

const rollout = (policy: string, halted?: string): RolloutState => ({
  version: '2.0.0',
  policy: parseRecordedPolicy(policy),
  tried: 0,
  failed: 0,
  haltedAt: halted ? '2026-11-24T10:00:00.000Z' : null,
  haltReason: halted ?? null,
  updatedAt: null,
  updatedBy: 'x',
});
const attempt = (outcome: string | null, reason: string | null = null): DeploymentRow => ({
  device_id: 'd',
  local_id: 1,
  from_version: '1.0.0',
  to_version: '2.0.0',
  kind: 'switch',
  outcome,
  reason,
  started_at: 0,
  finished_at: null,
});
// Device ids on either side of a 50 % rollout of 2.0.0, by the agent's own bucket function.
const ids = Array.from({ length: 50 }, (_, i) => `pi-${i}`);
const inside = ids.find((id) => rolloutBucket(id, '2.0.0') < 50) ?? '';
const outside = ids.find((id) => rolloutBucket(id, '2.0.0') >= 50) ?? '';
const seen = { stale: false, hasAgent: true };

describe('why a device is not on the newest release', () => {
  it('names the pin first, then its own attempt, the groups and percentage, then the halt', () => {
    const dev = (id: string, groups: string[] = ['lab'], pinned: string | null = null) => ({
      id,
      groups,
      pinned,
    });
    const halted = rollout('{"percent":50,"groups":["lab"]}', '3 of 10 devices failed');
    expect(
      whyBehind(dev(inside, ['lab'], '1.0.0'), '2.0.0', attempt('failed', 'x'), halted, seen),
    ).toBe('pinned to 1.0.0');
    expect(whyBehind(dev(inside), '2.0.0', attempt('failed', 'not healthy'), halted, seen)).toBe(
      '2.0.0 failed here: not healthy',
    );
    expect(whyBehind(dev(inside), '2.0.0', attempt('rolled-back'), halted, seen)).toBe(
      '2.0.0 rolled back here',
    );
    expect(whyBehind(dev(inside), '2.0.0', attempt(null), halted, seen)).toBe('updating to 2.0.0');
    expect(whyBehind(dev(inside), '2.0.0', undefined, halted, seen)).toBe(
      '2.0.0 halted: 3 of 10 devices failed',
    );
    // A halt keeps back only the devices the rule lets in.
    expect(whyBehind(dev(inside, ['roof']), '2.0.0', undefined, halted, seen)).toBe(
      '2.0.0 is limited to groups lab',
    );
    expect(whyBehind(dev(outside), '2.0.0', undefined, halted, seen)).toBe(
      '2.0.0 is at 50%; this device is not in yet',
    );
    const running = rollout('{"percent":50,"groups":["lab"]}');
    expect(whyBehind(dev(inside, ['roof']), '2.0.0', undefined, running, seen)).toBe(
      '2.0.0 is limited to groups lab',
    );
    expect(whyBehind(dev(outside), '2.0.0', undefined, running, seen)).toBe(
      '2.0.0 is at 50%; this device is not in yet',
    );
    expect(whyBehind(dev(inside), '2.0.0', undefined, running, seen)).toBe(
      'waiting for its agent to take 2.0.0',
    );
    expect(
      whyBehind(dev(inside), '2.0.0', undefined, running, { stale: true, hasAgent: true }),
    ).toBe('offline: not seen recently');
    expect(
      whyBehind(dev(inside), '2.0.0', undefined, undefined, { stale: false, hasAgent: false }),
    ).toBe('no agent has reported for this device');
  });

  it('admits by channel, groups and the same buckets as the agent', () => {
    const policy = parseRecordedPolicy('{"percent":50,"groups":["lab"]}');
    expect(admitted({ id: inside, channel: 'stable', groups: ['lab'] }, '2.0.0', policy)).toBe(
      true,
    );
    expect(admitted({ id: outside, channel: 'stable', groups: ['lab'] }, '2.0.0', policy)).toBe(
      false,
    );
    expect(admitted({ id: inside, channel: 'stable', groups: [] }, '2.0.0', policy)).toBe(false);
    expect(admitted({ id: inside, channel: 'stable', groups: [] }, '2.1.0-beta.1', undefined)).toBe(
      false,
    );
    expect(admitted({ id: inside, channel: 'beta', groups: [] }, '2.1.0-beta.1', undefined)).toBe(
      true,
    );
  });
});

describe('the newest release', () => {
  it('follows the channel, skips withdrawn releases and sorts by semver', () => {
    const withdrawn = new Map([['2.0.0', rollout('{"withdrawn":true}')]]);
    const versions = ['1.9.0', '1.10.0', '2.0.0', '2.1.0-beta.1'];
    expect(newestFor('stable', versions, new Map())).toBe('2.0.0');
    expect(newestFor('stable', versions, withdrawn)).toBe('1.10.0');
    expect(newestFor('beta', versions, withdrawn)).toBe('2.1.0-beta.1');
    expect(['1.9.0', 'junk', '1.10.0'].sort(byVersionDesc)).toEqual(['1.10.0', '1.9.0', 'junk']);
  });

  it('reads a recorded policy leniently and refuses text that is not one', () => {
    expect(
      parseRecordedPolicy('{"percent":20,"future":1,"halt":{"failedPercent":10,"minDevices":4}}'),
    ).toEqual({
      percent: 20,
      groups: undefined,
      withdrawn: false,
      halt: { failedPercent: 10, minDevices: 4 },
    });
    expect(parseRecordedPolicy('not json')).toBeUndefined();
    expect(parseRecordedPolicy('[1]')).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { versionsToCheck } from '../../agent/release/halt-check.js';
import {
  decideHalt,
  describeHalt,
  haltAdmission,
  meetsHalt,
} from '../../agent/release/halt-criteria.js';
import { PolicyError, parsePolicy } from '../../agent/release/rollout-policy.js';
import type { Candidate } from '../../agent/release/select.js';
import { parseVersion, type Version } from '../../agent/release/version.js';

const v = (text: string): Version => parseVersion(text) ?? (undefined as never);
const rule = (halt: unknown) => JSON.stringify({ releases: { '1.4.0': { halt } } });

describe('halt criteria in the policy', () => {
  it('parses them per release and leaves releases without them unchanged', () => {
    const policy = parsePolicy(
      JSON.stringify({
        releases: {
          '1.4.0': { percent: 50, halt: { failedPercent: 20, minDevices: 5 } },
          '1.3.0': { percent: 50 },
        },
      }),
    );
    expect(policy.releases.get('1.4.0')?.halt).toEqual({ failedPercent: 20, minDevices: 5 });
    expect(policy.releases.get('1.3.0')?.halt).toBeUndefined();
    expect(
      parsePolicy(rule({ failedPercent: 100, minDevices: 1 })).releases.get('1.4.0')?.halt,
    ).toEqual({ failedPercent: 100, minDevices: 1 });
    expect(
      parsePolicy(rule({ failedPercent: 0.5, minDevices: 1 })).releases.get('1.4.0')?.halt,
    ).toEqual({ failedPercent: 0.5, minDevices: 1 });
  });

  it.each([
    [
      { failedPercent: 0, minDevices: 5 },
      'releases["1.4.0"].halt.failedPercent must be a number above 0, at most 100',
    ],
    [
      { failedPercent: 101, minDevices: 5 },
      'releases["1.4.0"].halt.failedPercent must be a number above 0, at most 100',
    ],
    [
      { failedPercent: '20', minDevices: 5 },
      'releases["1.4.0"].halt.failedPercent must be a number',
    ],
    [{ minDevices: 5 }, 'releases["1.4.0"].halt.failedPercent must be a number'],
    [
      { failedPercent: 20, minDevices: 0 },
      'releases["1.4.0"].halt.minDevices must be a whole number of at least 1',
    ],
    [
      { failedPercent: 20, minDevices: 2.5 },
      'releases["1.4.0"].halt.minDevices must be a whole number of at least 1',
    ],
    [{ failedPercent: 20 }, 'releases["1.4.0"].halt.minDevices must be a whole number'],
    [{ failedPercent: 20, minDevices: 5, after: 3 }, 'releases["1.4.0"].halt: unknown key "after"'],
    [true, 'releases["1.4.0"].halt must be an object'],
    [[20, 5], 'releases["1.4.0"].halt must be an object'],
  ])('refuses %j with a message naming the path', (halt, message) => {
    expect(() => parsePolicy(rule(halt))).toThrow(PolicyError);
    expect(() => parsePolicy(rule(halt))).toThrow(message);
  });
});

describe('the halt decision', () => {
  const criteria = { failedPercent: 20, minDevices: 5 };
  const now = new Date('2026-11-24T12:00:00Z');

  it('waits for minDevices before the share counts', () => {
    expect(meetsHalt(criteria, { tried: 4, failed: 4 })).toBe(false);
    expect(meetsHalt(criteria, { tried: 5, failed: 1 })).toBe(true); // 20% reaches 20%
    expect(meetsHalt(criteria, { tried: 6, failed: 1 })).toBe(false); // 16.7%
    expect(meetsHalt(criteria, { tried: 10, failed: 2 })).toBe(true);
    expect(meetsHalt(criteria, { tried: 0, failed: 0 })).toBe(false);
    expect(meetsHalt({ failedPercent: 100, minDevices: 1 }, { tried: 3, failed: 2 })).toBe(false);
    expect(meetsHalt({ failedPercent: 100, minDevices: 1 }, { tried: 3, failed: 3 })).toBe(true);
  });

  it('halts with the counts as the reason, at the time of the evaluation', () => {
    expect(decideHalt(criteria, { tried: 10, failed: 3 }, undefined, now)).toEqual({
      kind: 'halted',
      counts: { tried: 10, failed: 3 },
      haltedAt: now,
      reason: '3 of 10 devices failed',
    });
    expect(decideHalt(criteria, { tried: 10, failed: 1 }, undefined, now)).toEqual({
      kind: 'open',
      counts: { tried: 10, failed: 1 },
    });
  });

  it('judges a recorded halt afresh when the policy changed its criteria', () => {
    const recorded = {
      haltedAt: new Date('2026-11-24T11:00:00Z'),
      reason: '3 of 10 devices failed',
      criteria: { failedPercent: 20, minDevices: 5 },
    };
    const counts = { tried: 10, failed: 3 };
    const raised = { failedPercent: 50, minDevices: 5 };
    expect(decideHalt(raised, counts, recorded, now)).toEqual({ kind: 'open', counts });
    expect(decideHalt(criteria, counts, recorded, now)).toMatchObject({
      kind: 'halted',
      haltedAt: recorded.haltedAt,
    });
    // Criteria that cannot be read from the row: the halt stays.
    expect(decideHalt(raised, counts, { ...recorded, criteria: undefined }, now)).toMatchObject({
      kind: 'halted',
    });
  });

  it('keeps a recorded halt when later outcomes lower the share', () => {
    const recorded = {
      haltedAt: new Date('2026-11-24T11:00:00Z'),
      reason: '1 of 5 devices failed',
    };
    expect(decideHalt(criteria, { tried: 9, failed: 1 }, recorded, now)).toEqual({
      kind: 'halted',
      counts: { tried: 9, failed: 1 },
      haltedAt: recorded.haltedAt,
      reason: '1 of 5 devices failed',
    });
  });

  it('admits an open release only, and says why not otherwise', () => {
    const counts = { tried: 10, failed: 3 };
    expect(haltAdmission('1.4.0', { kind: 'open', counts })).toEqual({ allowed: true });
    expect(
      haltAdmission('1.4.0', {
        kind: 'halted',
        counts,
        haltedAt: now,
        reason: '3 of 10 devices failed',
      }),
    ).toEqual({ allowed: false, reason: '1.4.0 halted: 3 of 10 devices failed' });
    expect(
      haltAdmission('1.4.0', { kind: 'unknown', reason: 'the central database cannot be reached' }),
    ).toEqual({
      allowed: false,
      reason:
        '1.4.0 has halt criteria and the central database cannot be reached; not starting it until it can',
    });
    expect(haltAdmission('1.4.0', undefined)).toMatchObject({ allowed: false });
  });

  it('describes each state for ota status', () => {
    expect(describeHalt('1.4.0', criteria, { kind: 'open', counts: { tried: 1, failed: 0 } })).toBe(
      '1.4.0 rolling out: 0 of 1 device failed (halts at 20% once 5 tried)',
    );
    expect(
      describeHalt('1.4.0', criteria, {
        kind: 'halted',
        counts: { tried: 10, failed: 3 },
        haltedAt: now,
        reason: '3 of 10 devices failed',
      }),
    ).toBe('1.4.0 halted: 3 of 10 devices failed');
  });
});

describe('which releases a poll checks', () => {
  const candidate = (text: string): Candidate => ({ version: v(text), commit: `c${text}` });
  const candidates = ['1.2.0', '1.3.0', '1.4.0', '1.5.0'].map(candidate);
  const device = (extra: Partial<Parameters<typeof versionsToCheck>[2]> = {}) => ({
    id: 'pi-1',
    groups: ['site-a'],
    failed: new Set<string>(),
    current: v('1.3.0'),
    movingDown: false,
    onChannel: () => true,
    ...extra,
  });
  const halt = { failedPercent: 20, minDevices: 5 };

  it('none without halt criteria: no database access at all', () => {
    const policy = parsePolicy(JSON.stringify({ releases: { '1.4.0': { percent: 100 } } }));
    expect(versionsToCheck(policy, candidates, device())).toEqual([]);
  });

  it('those above the running version this device could start', () => {
    const policy = parsePolicy(
      JSON.stringify({
        releases: {
          '1.2.0': { halt },
          '1.3.0': { halt },
          '1.4.0': { halt },
          '1.5.0': { halt, groups: ['lab'] },
        },
      }),
    );
    expect(versionsToCheck(policy, candidates, device())).toEqual(['1.4.0']);
    expect(versionsToCheck(policy, candidates, device({ failed: new Set(['1.4.0']) }))).toEqual([]);
    expect(versionsToCheck(policy, candidates, device({ current: undefined }))).toEqual([
      '1.2.0',
      '1.3.0',
      '1.4.0',
    ]);
    // Moving down (a withdrawal or hold): the lower releases may be started too.
    expect(versionsToCheck(policy, candidates, device({ movingDown: true }))).toEqual([
      '1.2.0',
      '1.4.0',
    ]);
  });

  it('not a withdrawn release, nor one off this device channel', () => {
    const policy = parsePolicy(
      JSON.stringify({ releases: { '1.4.0': { halt, withdrawn: true }, '1.5.0': { halt } } }),
    );
    expect(versionsToCheck(policy, candidates, device())).toEqual(['1.5.0']);
    expect(versionsToCheck(policy, candidates, device({ onChannel: () => false }))).toEqual([]);
  });
});

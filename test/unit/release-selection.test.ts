import { describe, expect, it } from 'vitest';
import { aliasConflicts } from '../../agent/release/alias-conflicts.js';
import { matchesPrefixes, pollPrefixes } from '../../agent/release/poll-prefixes.js';
import { nextPollDelay } from '../../agent/release/poll-schedule.js';
import { type Candidate, selectTarget } from '../../agent/release/select.js';
import { compareVersions, parseVersion, type Version } from '../../agent/release/version.js';

const v = (tag: string): Version => {
  const parsed = parseVersion(tag);
  if (!parsed) throw new Error(`not a version: ${tag}`);
  return parsed;
};
const cand = (tag: string): Candidate => ({ version: v(tag), commit: `c-${tag}` });
const device = { channel: 'stable', failed: new Set<string>(), refused: new Map<string, string>() };

describe('parseVersion', () => {
  it('reads semver tags with or without v', () => {
    expect(v('v1.4.2')).toMatchObject({
      major: 1,
      minor: 4,
      patch: 2,
      text: '1.4.2',
      tag: 'v1.4.2',
    });
    expect(v('1.4.0-beta.2').prerelease).toEqual(['beta', 2]);
    expect(v('v1.4.0+build.7').text).toBe('1.4.0');
  });

  it.each([
    'v1',
    'latest',
    'v1.2',
    'v1.2.3;rm -rf',
    'v01.2.3',
    'v1.2.3-',
    'V1.2.3',
    'v1.2.3-ünïcødé',
    'v２.0.0',
    `v1.2.3-${'a'.repeat(300)}`,
    'v99999999999999999999.0.0',
    '',
  ])('rejects %j', (tag) => {
    expect(parseVersion(tag)).toBeUndefined();
  });

  it('orders by semver precedence', () => {
    const order = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.10.0',
      '2.0.0',
    ];
    const shuffled = [...order].reverse().map(v);
    expect(shuffled.sort(compareVersions).map((x) => x.text)).toEqual(order);
  });
});

describe('pollPrefixes', () => {
  it('asks only for prefixes that hold versions above the current one', () => {
    expect(pollPrefixes(v('v1.4.2'))).toEqual([
      'v1.4.3',
      'v1.4.4',
      'v1.4.5',
      'v1.5',
      'v1.6',
      'v1.7',
      'v2',
      'v3',
      'v4',
    ]);
    expect(pollPrefixes(v('2.0.9'))).toContain('2.0.10');
    expect(pollPrefixes(v('v1.5.0-beta.2'))[0]).toBe('v1.5.0');
  });

  it('matches no tag at or below the current version (no old tag is ever sent)', () => {
    const current = v('v3.7.9');
    const prefixes = pollPrefixes(current);
    for (let major = 0; major <= 40; major++) {
      for (let minor = 0; minor <= 25; minor++) {
        for (const patch of [0, 1, 9, 10, 11, 99, 100]) {
          const tag = `v${major}.${minor}.${patch}`;
          if (matchesPrefixes(tag, prefixes)) {
            expect(compareVersions(v(tag), current), tag).toBeGreaterThan(0);
          }
        }
      }
    }
  });

  it('covers every version reachable by raising one field by up to 3', () => {
    const current = v('v9.9.9');
    const prefixes = pollPrefixes(current);
    for (const tag of [
      'v9.9.10',
      'v9.9.12',
      'v9.10.0',
      'v9.12.3',
      'v10.0.0',
      'v12.0.0',
      'v9.9.10-rc.1',
    ]) {
      expect(matchesPrefixes(tag, prefixes), tag).toBe(true);
    }
  });
});

describe('selectTarget', () => {
  const all = ['v1.0.0', 'v1.1.0', 'v1.2.0-beta.1', 'v1.2.0-rc.1', 'v0.9.0'].map(cand);

  it('picks the highest stable version on the stable channel', () => {
    const { target, excluded } = selectTarget(all, device);
    expect(target?.version.text).toBe('1.1.0');
    expect(excluded.map((e) => e.version)).toEqual(['1.2.0-rc.1', '1.2.0-beta.1']);
  });

  it('takes pre-releases of its own channel only', () => {
    expect(selectTarget(all, { ...device, channel: 'beta' }).target?.version.text).toBe(
      '1.2.0-beta.1',
    );
    expect(selectTarget(all, { ...device, channel: 'rc' }).target?.version.text).toBe('1.2.0-rc.1');
  });

  it('skips failed and refused versions, saying why', () => {
    const result = selectTarget(all, {
      ...device,
      failed: new Set(['1.1.0']),
      refused: new Map([['1.0.0', 'not signed']]),
    });
    expect(result.target?.version.text).toBe('0.9.0');
    expect(result.excluded).toContainEqual({
      version: '1.1.0',
      reason: 'failed on this device before',
    });
    expect(result.excluded).toContainEqual({ version: '1.0.0', reason: 'not signed' });
  });

  it('returns no target when nothing is eligible', () => {
    expect(selectTarget([], device).target).toBeUndefined();
  });
});

describe('nextPollDelay', () => {
  it('spreads polls within +/- jitter of the interval', () => {
    expect(nextPollDelay(60_000, 0.2, () => 0)).toBe(48_000);
    expect(nextPollDelay(60_000, 0.2, () => 0.5)).toBe(60_000);
    expect(nextPollDelay(60_000, 0.2, () => 0.999999)).toBe(72_000);
    expect(nextPollDelay(60_000, 0, () => 0.3)).toBe(60_000);
  });
});

describe('aliasConflicts', () => {
  const at = (tag: string, commit: string): Candidate => ({ version: v(tag), commit });

  it('refuses a version whose tags name different commits, and only that one', () => {
    const conflicts = aliasConflicts([
      at('v1.2.0', 'aaaa'),
      at('v1.2.0+build.7', 'aaaa'),
      at('1.2.0', 'bbbb'),
      at('v1.3.0', 'cccc'),
      at('1.3.0', 'cccc'),
    ]);
    expect([...conflicts.keys()]).toEqual(['1.2.0']);
    expect(conflicts.get('1.2.0')).toEqual({
      version: '1.2.0',
      tags: ['1.2.0', 'v1.2.0', 'v1.2.0+build.7'],
      commits: ['bbbb', 'aaaa'],
      reason:
        'tags 1.2.0, v1.2.0, v1.2.0+build.7 of version 1.2.0 point to different commits (bbbb, aaaa): refused',
    });
  });
});

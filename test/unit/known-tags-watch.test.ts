import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { KnownTags, WATCH_LIMIT } from '../../agent/release/known-tags.js';
import { TagLedger } from '../../agent/release/tag-ledger.js';
import { parseVersion } from '../../agent/release/version.js';
import { tempDirForSuite } from '../helpers/temp-dir.js';

// What a cheap poll names exactly (to see those tags deleted): with many known tags it must
// stay a handful, not every tag above the running version.
describe('KnownTags.watchList', () => {
  const dir = tempDirForSuite('ota-known-tags-');
  const known = (count: number) => {
    const ledger = new TagLedger(join(dir, `ledger-${count}-${Math.random()}.json`));
    ledger.record(
      Array.from({ length: count }, (_, i) => ({
        name: `v1.${Math.floor(i / 100)}.${i % 100}`,
        commit: `${(i + 1).toString(16).padStart(40, '0')}`,
      })),
      new Date(),
    );
    return new KnownTags(
      ledger,
      { channel: 'stable', acceptMovedTags: false, now: Date.now },
      pino({ level: 'silent' }),
    );
  };

  it('with nothing running, names only the highest candidates, the floor first', () => {
    const { floor, watched } = known(1_000).watchList(undefined, new Set(), () => false);
    expect(floor?.text).toBe('1.9.99');
    expect(watched).toHaveLength(WATCH_LIMIT);
    expect(watched[0]).toBe('v1.9.99');
    expect(watched.at(-1)).toBe(`v1.9.${100 - WATCH_LIMIT}`);
  });

  it('far below the newest release, names the highest above the running version', () => {
    const current = parseVersion('v1.0.5');
    const { watched } = known(1_000).watchList(current, new Set(), () => false);
    expect(watched).toHaveLength(WATCH_LIMIT);
    expect(watched).toContain('v1.9.99');
    expect(watched).not.toContain('v1.0.6');
  });

  it('names every candidate above the running version when there are few, skipping failed ones', () => {
    const current = parseVersion('v1.0.90');
    const { watched } = known(100).watchList(current, new Set(['1.0.95']), () => false);
    expect(watched).toEqual([
      'v1.0.99',
      'v1.0.98',
      'v1.0.97',
      'v1.0.96',
      'v1.0.94',
      'v1.0.93',
      'v1.0.92',
      'v1.0.91',
    ]);
  });
});

// Only versions above the running one are kept parsed between polls (10,000 tags parsed and
// kept were 1.5 MB for the agent's life); alias conflicts are still found over every tag.
describe('KnownTags.versionsAbove', () => {
  const dir = tempDirForSuite('ota-known-above-');
  const sha = (n: number) => n.toString(16).padStart(40, '0');
  const make = () => {
    const ledger = new TagLedger(join(dir, `ledger-${Math.random()}.json`));
    ledger.record(
      Array.from({ length: 100 }, (_, i) => ({ name: `v1.0.${i}`, commit: sha(i + 1) })),
      new Date(),
    );
    const tags = new KnownTags(
      ledger,
      { channel: 'stable', acceptMovedTags: false, now: Date.now },
      pino({ level: 'silent' }),
    );
    return { ledger, tags };
  };
  const texts = (list: readonly { version: { text: string } }[]) =>
    list.map((k) => k.version.text).sort();

  it('follows the running version and newly recorded tags', () => {
    const { tags } = make();
    expect(texts(tags.versionsAbove(parseVersion('1.0.97')))).toEqual(['1.0.98', '1.0.99']);
    expect(tags.versionsAbove(undefined)).toHaveLength(100);
    expect(texts(tags.versionsAbove(parseVersion('v1.0.98')))).toEqual(['1.0.99']);
    tags.candidates([{ name: 'v1.1.0', commit: sha(500), object: sha(500) }]);
    expect(texts(tags.versionsAbove(parseVersion('1.0.98')))).toEqual(['1.0.99', '1.1.0']);
    tags.forgetDeleted([], ['v1.1']);
    expect(texts(tags.versionsAbove(parseVersion('1.0.98')))).toEqual(['1.0.99']);
  });

  it('finds alias conflicts below the running version too', () => {
    const { ledger, tags } = make();
    ledger.record([{ name: '1.0.3', commit: sha(999) }], new Date());
    expect(tags.versionsAbove(parseVersion('1.0.99'))).toEqual([]);
    expect([...tags.aliasConflicts().keys()]).toEqual(['1.0.3']);
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TagLedger } from '../../agent/release/tag-ledger.js';

const file = () => join(mkdtempSync(join(tmpdir(), 'ota-ledger-')), 'tags.json');
const t0 = new Date('2026-11-24T00:00:00.000Z');
const t1 = new Date('2026-11-24T01:00:00.000Z');

describe('the tag ledger', () => {
  it('marks a deleted tag without forgetting its first commit, and revives it at that commit', () => {
    const path = file();
    const ledger = new TagLedger(path);
    ledger.record([{ name: 'v1.0.0', commit: 'aaaa', object: 'tttt' }], t0);
    ledger.markDeleted(['v1.0.0', 'v9.9.9'], t1);
    expect(new TagLedger(path).get('v1.0.0')).toEqual({
      commit: 'aaaa',
      object: 'tttt',
      firstSeen: t0.getTime(),
      deletedAt: t1.getTime(),
    });
    // The file keeps the format every agent version reads: ISO times.
    expect(JSON.parse(readFileSync(path, 'utf8'))['v1.0.0']).toEqual({
      commit: 'aaaa',
      object: 'tttt',
      firstSeen: t0.toISOString(),
      deletedAt: t1.toISOString(),
    });
    expect(ledger.get('v9.9.9')).toBeUndefined();

    ledger.record([{ name: 'v1.0.0', commit: 'aaaa', object: 'tttt' }], t1);
    expect(ledger.get('v1.0.0')).toEqual({
      commit: 'aaaa',
      object: 'tttt',
      firstSeen: t0.getTime(),
      deletedAt: undefined,
    });
    expect(JSON.parse(readFileSync(path, 'utf8'))['v1.0.0'].deletedAt).toBeUndefined();
  });

  it('reads a ledger written before objects and deletions were kept', () => {
    const path = file();
    const old = new TagLedger(path);
    old.record([{ name: 'v1.0.0', commit: 'aaaa' }], t0);
    expect(new TagLedger(path).get('v1.0.0')).toMatchObject({ commit: 'aaaa' });
    expect(JSON.parse(readFileSync(path, 'utf8'))['v1.0.0']).toEqual({
      commit: 'aaaa',
      firstSeen: t0.toISOString(),
    });
  });

  it('reads the file an agent before this one wrote, field for field', () => {
    const path = file();
    writeFileSync(
      path,
      JSON.stringify({
        'v1.0.0': { commit: 'aaaa', object: 'aaaa', firstSeen: t0.toISOString() },
        'v1.1.0': {
          commit: 'bbbb',
          object: 'tttt',
          firstSeen: t0.toISOString(),
          deletedAt: t1.toISOString(),
        },
      }),
    );
    const ledger = new TagLedger(path);
    expect(ledger.get('v1.0.0')).toEqual({
      commit: 'aaaa',
      object: 'aaaa',
      firstSeen: t0.getTime(),
      deletedAt: undefined,
    });
    expect(ledger.get('v1.1.0')?.deletedAt).toBe(t1.getTime());
    expect([...ledger.entries()].map(([tag]) => tag)).toEqual(['v1.0.0', 'v1.1.0']);
  });

  it('keeps working on a file with damaged entries, and keeps what they meant to older agents', () => {
    const path = file();
    writeFileSync(
      path,
      JSON.stringify({
        'v1.0.0': null,
        'v1.1.0': { commit: 42 },
        'v1.2.0': { commit: 'cccc', firstSeen: 'garbage' },
        'v1.3.0': { commit: 'dddd', firstSeen: t0.toISOString(), deletedAt: '' },
        'v1.4.0': { commit: 'eeee', firstSeen: t0.toISOString(), deletedAt: 'sometime' },
      }),
    );
    const ledger = new TagLedger(path);
    // Unusable entries are tags seen afresh; an unreadable time is no time.
    expect(ledger.get('v1.0.0')).toBeUndefined();
    expect(ledger.get('v1.1.0')).toBeUndefined();
    expect(ledger.get('v1.2.0')?.firstSeen).toBeNaN();
    expect(ledger.get('v1.3.0')?.deletedAt).toBeUndefined();
    expect(ledger.get('v1.4.0')?.deletedAt).toBeDefined();
    // ... and the ledger can still be written.
    ledger.record([{ name: 'v2.0.0', commit: 'ffff' }], t1);
    const written = JSON.parse(readFileSync(path, 'utf8'));
    expect(written['v2.0.0']).toEqual({ commit: 'ffff', firstSeen: t1.toISOString() });
    expect(written['v1.2.0'].commit).toBe('cccc');
    expect(Number.isNaN(Date.parse(written['v1.2.0'].firstSeen))).toBe(true);
    expect(written['v1.3.0'].deletedAt).toBeUndefined();
    expect(written['v1.4.0'].deletedAt).toBeTruthy();
    expect(new TagLedger(path).get('v1.4.0')?.deletedAt).toBeDefined();
  });
});

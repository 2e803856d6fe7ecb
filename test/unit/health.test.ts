import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateHealth, HealthReporter, type HealthStatus } from '../../app/health.js';

const base: HealthStatus = {
  pid: 1,
  appVersion: '1.0.0',
  startedAt: 0,
  lastStoredAt: null,
  lastError: null,
  lastErrorAt: null,
  maxAgeMs: 35_000,
  stopping: false,
};

describe('health rule', () => {
  it('is unhealthy until a reading has been stored', () => {
    expect(evaluateHealth(undefined, 1000).healthy).toBe(false);
    expect(evaluateHealth(base, 1000)).toEqual({ healthy: false, reason: 'no reading stored yet' });
  });

  it('is healthy after a recent store, unhealthy once stale', () => {
    const stored = { ...base, lastStoredAt: 10_000 };
    expect(evaluateHealth(stored, 20_000).healthy).toBe(true);
    expect(evaluateHealth(stored, 45_001).healthy).toBe(false);
  });

  it('is unhealthy when the latest store failed, and while stopping', () => {
    expect(
      evaluateHealth({ ...base, lastStoredAt: 10_000, lastError: 'disk full' }, 11_000),
    ).toEqual({ healthy: false, reason: 'cannot store readings: disk full' });
    expect(evaluateHealth({ ...base, lastStoredAt: 10_000, stopping: true }, 11_000).healthy).toBe(
      false,
    );
  });

  it('reporter writes what the rule reads, and a later success clears a failure', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'health-')), 'h.json');
    const reporter = new HealthReporter(file, { appVersion: '1.0.0', maxAgeMs: 5000, now: 0 });
    const read = () => JSON.parse(readFileSync(file, 'utf8')) as HealthStatus;
    expect(evaluateHealth(read(), 1).healthy).toBe(false);
    reporter.stored(100);
    expect(evaluateHealth(read(), 200).healthy).toBe(true);
    reporter.failed(new Error('SQLITE_FULL'), 300);
    expect(evaluateHealth(read(), 301).reason).toMatch(/SQLITE_FULL/);
    reporter.stored(400);
    expect(evaluateHealth(read(), 401).healthy).toBe(true);
  });
});

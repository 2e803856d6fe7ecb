import { renameSync, writeFileSync } from 'node:fs';

/**
 * Milliseconds on CLOCK_MONOTONIC (process.hrtime), which every process of one boot shares: the
 * app writes it and the HEALTHCHECK process compares against it. A Pi has no real-time clock and
 * NTP steps the wall clock after boot; an age measured on the wall clock would turn a healthy
 * app unhealthy (or a stalled one healthy) by an hour.
 */
export const monotonicMs = (): number => Number(process.hrtime.bigint() / 1_000_000n);

/**
 * What the app last wrote about itself; the HEALTHCHECK reads it from a per-container file.
 * Times are `monotonicMs()` values.
 */
export interface HealthStatus {
  readonly pid: number;
  readonly appVersion: string;
  readonly startedAt: number;
  /** When a reading was last stored durably in the local spool. */
  readonly lastStoredAt: number | null;
  /** The last failure to store, if it happened after the last success. */
  readonly lastError: string | null;
  readonly lastErrorAt: number | null;
  /** Older than this without a stored reading means the app has stalled. */
  readonly maxAgeMs: number;
  readonly stopping: boolean;
}

export type HealthVerdict = { healthy: true; reason: string } | { healthy: false; reason: string };

/**
 * Healthy means: this process has stored at least one reading durably, the most recent store
 * attempt succeeded, and that was less than `maxAgeMs` ago. Pure, so the rule is unit-tested.
 */
export function evaluateHealth(status: HealthStatus | undefined, now: number): HealthVerdict {
  if (!status) return { healthy: false, reason: 'no health status written yet' };
  if (status.stopping) return { healthy: false, reason: 'app is shutting down' };
  if (status.lastError !== null) {
    return { healthy: false, reason: `cannot store readings: ${status.lastError}` };
  }
  if (status.lastStoredAt === null) return { healthy: false, reason: 'no reading stored yet' };
  const age = now - status.lastStoredAt;
  if (age > status.maxAgeMs) {
    return {
      healthy: false,
      reason: `last reading stored ${age} ms ago (limit ${status.maxAgeMs})`,
    };
  }
  return { healthy: true, reason: `last reading stored ${age} ms ago` };
}

/** Keeps the status file current; writes go to a temp file then rename, so readers never see half. */
export class HealthReporter {
  private status: HealthStatus;

  constructor(
    private readonly file: string,
    init: { appVersion: string; maxAgeMs: number; now: number },
  ) {
    this.status = {
      pid: process.pid,
      appVersion: init.appVersion,
      startedAt: init.now,
      lastStoredAt: null,
      lastError: null,
      lastErrorAt: null,
      maxAgeMs: init.maxAgeMs,
      stopping: false,
    };
    this.write();
  }

  stored(now: number): void {
    this.status = { ...this.status, lastStoredAt: now, lastError: null, lastErrorAt: null };
    this.write();
  }

  failed(error: Error, now: number): void {
    this.status = { ...this.status, lastError: error.message, lastErrorAt: now };
    this.write();
  }

  stopping(): void {
    this.status = { ...this.status, stopping: true };
    this.write();
  }

  private write(): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.status));
    renameSync(tmp, this.file);
  }
}

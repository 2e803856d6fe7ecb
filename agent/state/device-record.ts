/**
 * The device's state as one record: what runs, what ran before, the change in flight, the watch
 * in progress, failed marks, build failures and the pin. It is written ahead of every action
 * (intent, act, outcome) and is the only thing the agent reads to decide; the deployments table
 * is an audit log. Everything here is pure: the store (agent-state.ts) loads and saves it.
 */

/** A version the device can run without the network: its image is local. */
export interface Slot {
  readonly version: string;
  readonly commit: string;
  readonly image: string;
}

export type ChangeKind = 'switch' | 'rollback' | 'auto-rollback' | 'repair' | 'pin';

/**
 * A change of the running version. `starting`: the target is being created/started and gated
 * (the old version still runs); `switching`: the target passed its gate, the old one is being
 * stopped. A restart resumes the change towards `to`, whatever its kind: the target of an
 * interrupted rollback is the good version, never the one being left.
 */
export interface Change {
  /** The deployments (audit) row opened for this change. */
  readonly row: number;
  readonly kind: ChangeKind;
  readonly from: Slot | null;
  readonly to: Slot;
  readonly phase: 'starting' | 'switching';
  /** After the switch, watch the new version (and roll back if it fails). */
  readonly watch: boolean;
}

/** The watch window after a switch, measured in monotonic milliseconds watched so far. */
export interface Watch {
  readonly row: number;
  readonly version: string;
  readonly from: Slot | null;
  readonly watchedMs: number;
  /** The container's restart count when the watch began (a restart means a crash). */
  readonly restarts: number;
}

export interface DeviceRecord {
  readonly running: Slot | null;
  /** Versions that ran successfully, newest first (bounded): rollback and retention order. */
  readonly good: readonly string[];
  readonly failed: Readonly<Record<string, string>>;
  readonly buildFailures: Readonly<Record<string, number>>;
  readonly pinned: string | null;
  readonly change: Change | null;
  readonly watch: Watch | null;
}

export const GOOD_KEPT = 50;

export const emptyRecord = (): DeviceRecord => ({
  running: null,
  good: [],
  failed: {},
  buildFailures: {},
  pinned: null,
  change: null,
  watch: null,
});

/** Reads a stored record, tolerating fields a newer agent added and defaults it lacks. */
export function parseRecord(json: string | undefined): DeviceRecord {
  if (!json) return emptyRecord();
  const raw = JSON.parse(json) as Partial<DeviceRecord>;
  return { ...emptyRecord(), ...raw };
}

/** The version `ota rollback` goes back to: the newest good one that is neither running nor failed. */
export function previousOf(record: DeviceRecord): string | undefined {
  const current = record.running?.version;
  return record.good.find((v) => v !== current && record.failed[v] === undefined);
}

export const withGood = (good: readonly string[], version: string): string[] =>
  [version, ...good.filter((v) => v !== version)].slice(0, GOOD_KEPT);

export function markFailed(record: DeviceRecord, version: string, reason: string): DeviceRecord {
  return { ...record, failed: { ...record.failed, [version]: reason.slice(0, 1000) } };
}

export function clearFailed(record: DeviceRecord, version: string): DeviceRecord {
  const { [version]: _gone, ...failed } = record.failed;
  const { [version]: _count, ...buildFailures } = record.buildFailures;
  return { ...record, failed, buildFailures };
}

/** The change finished on `to`: it runs, and counts as good once its watch (if any) passed. */
export function committed(record: DeviceRecord, change: Change, restarts: number): DeviceRecord {
  const watching = change.watch;
  return {
    ...record,
    running: change.to,
    good: watching ? record.good : withGood(record.good, change.to.version),
    change: null,
    watch: watching
      ? { row: change.row, version: change.to.version, from: change.from, watchedMs: 0, restarts }
      : null,
  };
}

/** The watch passed: the version is good. */
export function watched(record: DeviceRecord, version: string): DeviceRecord {
  return { ...record, good: withGood(record.good, version), watch: null };
}

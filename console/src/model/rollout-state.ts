import type { RolloutRow } from '../db/fleet-queries.js';
import { toIso } from '../db/time-value.js';

/** A release's rule as an agent last recorded it in ota_rollouts (contract with the agents). */
export interface RecordedPolicy {
  readonly percent: number;
  readonly groups: readonly string[] | undefined;
  readonly withdrawn: boolean;
  readonly halt: { readonly failedPercent: number; readonly minDevices: number } | undefined;
}

export interface RolloutState {
  readonly version: string;
  /** Undefined when the row's policy text does not parse: shown as unknown, not guessed. */
  readonly policy: RecordedPolicy | undefined;
  readonly tried: number;
  readonly failed: number;
  readonly haltedAt: string | null;
  readonly haltReason: string | null;
  readonly updatedAt: string | null;
  readonly updatedBy: string;
}

const num = (v: unknown, fallback: number) =>
  typeof v === 'number' && Number.isFinite(v) ? v : fallback;

/** Reads the policy JSON leniently: another agent version may have written more keys. */
export function parseRecordedPolicy(text: string): RecordedPolicy | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  const groups = Array.isArray(r.groups)
    ? r.groups.filter((g): g is string => typeof g === 'string')
    : undefined;
  const h = r.halt as Record<string, unknown> | undefined;
  const halt =
    typeof h === 'object' && h !== null
      ? { failedPercent: num(h.failedPercent, 100), minDevices: num(h.minDevices, 1) }
      : undefined;
  return { percent: num(r.percent, 100), groups, withdrawn: r.withdrawn === true, halt };
}

export function rolloutStates(rows: readonly RolloutRow[]): Map<string, RolloutState> {
  return new Map(
    rows.map((r) => [
      r.version,
      {
        version: r.version,
        policy: parseRecordedPolicy(String(r.policy)),
        tried: Number(r.tried),
        failed: Number(r.failed),
        haltedAt: toIso(r.halted_at),
        haltReason: r.halt_reason,
        updatedAt: toIso(r.updated_at),
        updatedBy: r.updated_by,
      },
    ]),
  );
}

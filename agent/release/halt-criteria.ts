import { PolicyError } from './policy-error.js';

/**
 * A release's abort criteria (`"halt": {"failedPercent": 20, "minDevices": 5}` in the rollout
 * policy), as AWS IoT Jobs' abort config and hawkBit's error threshold: once at least
 * `minDevices` devices finished trying the release and `failedPercent` of them failed or rolled
 * it back, no further device starts it. Everything here is pure; the counts come from the
 * central database (halt-check.ts).
 */
export interface HaltCriteria {
  /** (0, 100]: the share of devices that tried it and failed at which the rollout halts. */
  readonly failedPercent: number;
  /** >= 1: how many devices must have finished trying it before the share counts. */
  readonly minDevices: number;
}

/** Distinct devices that finished trying a release, and how many of them failed or rolled back. */
export interface RolloutCounts {
  readonly tried: number;
  readonly failed: number;
}

/** What the central database already says of a release's halt (ota_rollouts), if anything. */
export interface RecordedHalt {
  readonly haltedAt: Date;
  readonly reason: string;
  /** The criteria it halted under (ota_rollouts.policy), when they can be read. */
  readonly criteria?: HaltCriteria | undefined;
}

/** Whether a recorded halt still stands under the current criteria: it does unless the policy
 * changed them (unreadable recorded criteria count as the same: the halt stays). */
export const haltStands = (recorded: RecordedHalt, criteria: HaltCriteria): boolean =>
  recorded.criteria === undefined ||
  (recorded.criteria.failedPercent === criteria.failedPercent &&
    recorded.criteria.minDevices === criteria.minDevices);

/** The verdict for one release with halt criteria, as the selection and `ota status` see it. */
export type HaltState =
  | { readonly kind: 'open'; readonly counts: RolloutCounts }
  | {
      readonly kind: 'halted';
      readonly counts: RolloutCounts;
      readonly haltedAt: Date;
      readonly reason: string;
    }
  /** The central database could not be read: the release is not started until it can. */
  | { readonly kind: 'unknown'; readonly reason: string };

const KEYS = ['failedPercent', 'minDevices'];

export function parseHaltCriteria(where: string, raw: unknown): HaltCriteria {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new PolicyError(`${where} must be an object like {"failedPercent": 20, "minDevices": 5}`);
  }
  const rule = raw as Record<string, unknown>;
  for (const key of Object.keys(rule)) {
    if (!KEYS.includes(key)) throw new PolicyError(`${where}: unknown key "${key}"`);
  }
  const { failedPercent, minDevices } = rule;
  if (typeof failedPercent !== 'number' || !(failedPercent > 0 && failedPercent <= 100)) {
    throw new PolicyError(`${where}.failedPercent must be a number above 0, at most 100`);
  }
  if (typeof minDevices !== 'number' || !Number.isInteger(minDevices) || minDevices < 1) {
    throw new PolicyError(`${where}.minDevices must be a whole number of at least 1`);
  }
  return { failedPercent, minDevices };
}

/** "3 of 10 devices failed" */
export const countsText = (c: RolloutCounts): string =>
  `${c.failed} of ${c.tried} device${c.tried === 1 ? '' : 's'} failed`;

/** Whether the counts meet the criteria: enough devices tried it, and enough of them failed. */
export function meetsHalt(criteria: HaltCriteria, counts: RolloutCounts): boolean {
  return (
    counts.tried >= criteria.minDevices &&
    counts.failed * 100 >= criteria.failedPercent * counts.tried
  );
}

/**
 * The halt state of a release from its counts and what was recorded before. A halt, once
 * recorded, stays (as an aborted AWS IoT job does): devices still finishing it when it halted
 * must not lower the share and restart the rollout. Lifting it is a policy change: new halt
 * criteria for the release (judged afresh on the counts, and recorded anew), removing its
 * `halt`, or a fix under a new version.
 */
export function decideHalt(
  criteria: HaltCriteria,
  counts: RolloutCounts,
  recorded: RecordedHalt | undefined,
  now: Date,
): HaltState {
  if (recorded && haltStands(recorded, criteria))
    return { kind: 'halted', counts, haltedAt: recorded.haltedAt, reason: recorded.reason };
  if (meetsHalt(criteria, counts)) {
    return { kind: 'halted', counts, haltedAt: now, reason: countsText(counts) };
  }
  return { kind: 'open', counts };
}

/** The selection's verdict for a release with halt criteria. */
export function haltAdmission(
  version: string,
  state: HaltState | undefined,
): { allowed: true } | { allowed: false; reason: string } {
  if (state?.kind === 'open') return { allowed: true };
  if (state?.kind === 'halted')
    return { allowed: false, reason: `${version} halted: ${state.reason}` };
  return {
    allowed: false,
    reason: `${version} has halt criteria and ${state?.reason ?? 'its outcomes were not read'}; not starting it until it can`,
  };
}

/** One line for `ota status`: "1.4.0 halted: 3 of 10 devices failed". */
export function describeHalt(version: string, criteria: HaltCriteria, state: HaltState): string {
  const limits = `halts at ${criteria.failedPercent}% once ${criteria.minDevices} tried`;
  switch (state.kind) {
    case 'halted':
      return `${version} halted: ${state.reason}`;
    case 'open':
      return `${version} rolling out: ${countsText(state.counts)} (${limits})`;
    case 'unknown':
      return `${version} not started here: ${state.reason} (${limits})`;
  }
}

import type { AgentLogger } from '../log.js';
import {
  decideHalt,
  describeHalt,
  type HaltState,
  haltAdmission,
  haltStands,
  type RecordedHalt,
  type RolloutCounts,
} from './halt-criteria.js';
import { admits, type ReleaseRule, type RolloutPolicy } from './rollout-policy.js';
import type { Candidate } from './select.js';
import { compareVersions, type Version } from './version.js';

/** What the central database holds of the releases asked about. */
export interface RolloutOutcome {
  readonly counts: RolloutCounts;
  readonly recorded: RecordedHalt | undefined;
}

/** The central database as halt checks need it (agent/report/rollout-store.ts). */
export interface RolloutOutcomes {
  /** Throws when the database cannot be read. Versions without a row count zero. */
  read(versions: readonly string[]): Promise<Map<string, RolloutOutcome>>;
  /** Upserts one ota_rollouts row per release evaluated. */
  record(rows: readonly EvaluatedRollout[], deviceId: string, now: Date): Promise<void>;
}

export interface EvaluatedRollout {
  readonly version: string;
  readonly rule: ReleaseRule;
  readonly state: HaltState;
  /** A halt recorded under other criteria no longer stands: the row's halt is replaced. */
  readonly replacesHalt?: boolean;
}

/** The rule as the agent parsed it, for ota_rollouts.policy. */
export const ruleJson = (rule: ReleaseRule): string =>
  JSON.stringify({
    percent: rule.percent,
    groups: rule.groups,
    withdrawn: rule.withdrawn,
    halt: rule.halt,
  });

/**
 * The releases whose outcomes this poll must read: those with halt criteria that this device
 * could start now (on its channel, not failed here, admitted by percentage and groups, above
 * the running version unless a withdrawal or hold moves it down). None: no database access,
 * so releases without halt criteria depend on the central database no more than before. Pure.
 */
export function versionsToCheck(
  policy: RolloutPolicy,
  candidates: readonly Candidate[],
  device: {
    readonly id: string;
    readonly groups: readonly string[];
    readonly failed: ReadonlySet<string>;
    readonly current: Version | undefined;
    /** Whether the policy moves this device off its running version. */
    readonly movingDown: boolean;
    readonly onChannel: (v: Version) => boolean;
  },
): string[] {
  const versions = new Set<string>();
  for (const c of candidates) {
    const text = c.version.text;
    const rule = policy.releases.get(text);
    if (!rule?.halt || rule.withdrawn || device.failed.has(text)) continue;
    if (!device.onChannel(c.version) || !admits(policy, device, text).allowed) continue;
    const above = !device.current || compareVersions(c.version, device.current) > 0;
    if (above || (device.movingDown && text !== device.current?.text)) versions.add(text);
  }
  return [...versions];
}

/** A release with halt criteria as this poll evaluated it, for `ota status`. */
export interface RolloutView {
  readonly version: string;
  readonly state: HaltState['kind'];
  readonly tried?: number | undefined;
  readonly failed?: number | undefined;
  /** "1.4.0 halted: 3 of 10 devices failed" */
  readonly text: string;
}

/** What `ota status` shows of the halt states a poll read. Pure. */
export function rolloutViews(
  policy: RolloutPolicy,
  halts: ReadonlyMap<string, HaltState>,
): RolloutView[] {
  return [...halts].flatMap(([version, state]) => {
    const halt = policy.releases.get(version)?.halt;
    if (!halt) return [];
    const counts = state.kind === 'unknown' ? undefined : state.counts;
    return [{ version, state: state.kind, ...counts, text: describeHalt(version, halt, state) }];
  });
}

/** The policy's verdict for a version, with the halt states a poll read. Pure. */
export function admitWithHalts(
  policy: RolloutPolicy,
  device: { readonly id: string; readonly groups: readonly string[] },
  halts: ReadonlyMap<string, HaltState>,
): (version: string) => { allowed: true } | { allowed: false; reason: string } {
  return (version) => {
    const verdict = admits(policy, device, version);
    if (!verdict.allowed || !policy.releases.get(version)?.halt) return verdict;
    return haltAdmission(version, halts.get(version));
  };
}

/**
 * Reads the outcomes of the releases to check, decides each one's halt (pure, decideHalt) and
 * records the verdicts. A database that cannot be read leaves every one of them 'unknown', so
 * none is started; a failed write only loses the row until the next evaluation.
 */
export async function checkHalts(
  outcomes: RolloutOutcomes | undefined,
  policy: RolloutPolicy,
  versions: readonly string[],
  context: { readonly deviceId: string; readonly now: Date },
  log: AgentLogger,
): Promise<Map<string, HaltState>> {
  const states = new Map<string, HaltState>();
  if (versions.length === 0) return states;
  if (!outcomes) {
    for (const v of versions) {
      states.set(v, { kind: 'unknown', reason: 'central reporting is off on this device' });
    }
    log.warn({ versions }, 'not starting releases with halt criteria: central reporting is off');
    return states;
  }
  let read: Map<string, RolloutOutcome>;
  try {
    read = await outcomes.read(versions);
  } catch (err) {
    for (const v of versions) {
      states.set(v, { kind: 'unknown', reason: 'the central database cannot be reached' });
    }
    log.warn(
      { versions, err },
      'central database unreachable: not starting releases with halt criteria until it is back',
    );
    return states;
  }
  const evaluated: EvaluatedRollout[] = [];
  for (const version of versions) {
    const rule = policy.releases.get(version);
    if (!rule?.halt) continue;
    const seen = read.get(version);
    const counts = seen?.counts ?? { tried: 0, failed: 0 };
    const recorded = seen?.recorded;
    const state = decideHalt(rule.halt, counts, recorded, context.now);
    const replacesHalt = recorded !== undefined && !haltStands(recorded, rule.halt);
    if (replacesHalt) {
      log.info(
        { version, halt: rule.halt, was: recorded.criteria },
        'halt criteria changed: the recorded halt is judged afresh',
      );
    }
    if (state.kind === 'halted' && (!recorded || replacesHalt)) {
      log.warn(
        { version, ...counts, halt: rule.halt },
        'rollout halted: no further device starts it',
      );
    }
    states.set(version, state);
    evaluated.push({ version, rule, state, ...(replacesHalt ? { replacesHalt } : {}) });
  }
  try {
    await outcomes.record(evaluated, context.deviceId, context.now);
  } catch (err) {
    log.warn({ err }, 'could not record the rollout evaluation in the central database');
  }
  return states;
}

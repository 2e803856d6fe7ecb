import { rolloutBucket } from '../../../agent/release/rollout-policy.js';
import { onChannel } from '../../../agent/release/select.js';
import { parseVersion } from '../../../agent/release/version.js';
import type { DeploymentRow } from '../db/fleet-queries.js';
import type { FleetDevice } from './fleet-view.js';
import { byVersionDesc, isAtLeast } from './known-versions.js';
import type { RecordedPolicy, RolloutState } from './rollout-state.js';

export interface ReleaseView {
  readonly version: string;
  /** From ota_rollouts; null when no agent recorded this release's rule (older agents). */
  readonly policy: RecordedPolicy | null;
  /** Devices on the release's channel that its percentage and groups let in. */
  readonly admitted: number;
  /** Devices that run it now. */
  readonly running: number;
  /** Admitted devices that run it or a newer version: how far the rollout got. */
  readonly reached: number;
  /** By each device's latest switch to this version. */
  readonly succeeded: number;
  readonly failed: number;
  readonly rolledBack: number;
  readonly inProgress: number;
  /** Admitted, not on it or newer, and with no attempt yet (not pinned). */
  readonly waiting: number;
  readonly failureReasons: readonly { readonly reason: string; readonly devices: number }[];
  readonly halted: { readonly at: string; readonly reason: string | null } | null;
  /** The halt helper's own tally at its last evaluation, when recorded. */
  readonly recorded: {
    readonly tried: number;
    readonly failed: number;
    readonly by: string;
  } | null;
}

export function admitted(
  device: Pick<FleetDevice, 'id' | 'channel' | 'groups'>,
  version: string,
  policy: RecordedPolicy | undefined,
): boolean {
  const v = parseVersion(version);
  if (!v || !onChannel(v, device.channel)) return false;
  if (!policy) return true;
  if (policy.withdrawn) return false;
  if (policy.groups && !policy.groups.some((g) => device.groups.includes(g))) return false;
  return rolloutBucket(device.id, version) < policy.percent;
}

/** Every known release, newest first, with its rollout progress. Pure. */
export function buildReleases(
  fleet: readonly FleetDevice[],
  switches: readonly DeploymentRow[],
  rollouts: ReadonlyMap<string, RolloutState>,
  versions: Iterable<string>,
): ReleaseView[] {
  const byVersion = new Map<string, Map<string, DeploymentRow>>();
  for (const d of switches) {
    const devices = byVersion.get(d.to_version) ?? new Map<string, DeploymentRow>();
    const seen = devices.get(d.device_id);
    if (!seen || Number(seen.local_id) < Number(d.local_id)) devices.set(d.device_id, d);
    byVersion.set(d.to_version, devices);
  }
  return [...new Set(versions)].sort(byVersionDesc).map((version) => {
    const rollout = rollouts.get(version);
    const attempts = [...(byVersion.get(version)?.values() ?? [])];
    const count = (outcome: string | null) => attempts.filter((a) => a.outcome === outcome).length;
    const reasons = new Map<string, number>();
    for (const a of attempts) {
      if (a.outcome !== 'failed' && a.outcome !== 'rolled-back') continue;
      const reason = a.reason ?? '(no reason recorded)';
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    const tried = new Set(attempts.map((a) => a.device_id));
    const inIt = fleet.filter((d) => admitted(d, version, rollout?.policy));
    return {
      version,
      policy: rollout?.policy ?? null,
      admitted: inIt.length,
      running: fleet.filter((d) => d.version === version).length,
      reached: inIt.filter((d) => isAtLeast(d.version, version)).length,
      succeeded: count('succeeded'),
      failed: count('failed'),
      rolledBack: count('rolled-back'),
      inProgress: count(null),
      waiting: inIt.filter((d) => !d.pinned && !tried.has(d.id) && !isAtLeast(d.version, version))
        .length,
      failureReasons: [...reasons]
        .map(([reason, devices]) => ({ reason, devices }))
        .sort((a, b) => b.devices - a.devices),
      halted: rollout?.haltedAt ? { at: rollout.haltedAt, reason: rollout.haltReason } : null,
      recorded: rollout
        ? { tried: rollout.tried, failed: rollout.failed, by: rollout.updatedBy }
        : null,
    };
  });
}

import { rolloutBucket } from '../../../agent/release/rollout-policy.js';
import type { DeploymentRow, DeviceRow } from '../db/fleet-queries.js';
import { toIso, toMs } from '../db/time-value.js';
import { isAtLeast, newestFor } from './known-versions.js';
import type { RolloutState } from './rollout-state.js';

export type Health = 'online' | 'stopped' | 'stale' | 'updating' | 'unknown';

export interface FleetDevice {
  readonly id: string;
  readonly hostname: string | null;
  readonly version: string | null;
  readonly channel: string;
  readonly groups: readonly string[];
  readonly pinned: string | null;
  readonly health: Health;
  readonly stale: boolean;
  readonly lastSeen: string | null;
  readonly agentSeen: string | null;
  /** The newest release this device's channel could run. */
  readonly newest: string | null;
  /** Why the device does not run `newest`; null when it does (or nothing is known). */
  readonly behind: string | null;
  /** The latest switch this device made or tried: version and outcome. */
  readonly lastSwitch: { readonly to: string; readonly outcome: string | null } | null;
}

export interface FleetInput {
  readonly devices: readonly DeviceRow[];
  readonly switches: readonly DeploymentRow[];
  readonly rollouts: ReadonlyMap<string, RolloutState>;
  readonly now: number;
  readonly staleAfterMs: number;
}

/** Each device's latest switch per version (by local id, the agent's own order). */
export function latestSwitches(switches: readonly DeploymentRow[]) {
  const byDevice = new Map<string, Map<string, DeploymentRow>>();
  for (const d of switches) {
    const versions = byDevice.get(d.device_id) ?? new Map<string, DeploymentRow>();
    const seen = versions.get(d.to_version);
    if (!seen || Number(seen.local_id) < Number(d.local_id)) versions.set(d.to_version, d);
    byDevice.set(d.device_id, versions);
  }
  return byDevice;
}

export function knownVersions(input: Pick<FleetInput, 'devices' | 'switches' | 'rollouts'>) {
  const versions = new Set<string>(input.rollouts.keys());
  for (const d of input.switches) versions.add(d.to_version);
  for (const d of input.devices) if (d.app_version) versions.add(d.app_version);
  return versions;
}

const splitGroups = (text: string | null) => (text ? text.split(',').filter(Boolean) : []);

/** The fleet table: one row per device with its health and why it is behind. Pure. */
export function buildFleet(input: FleetInput): FleetDevice[] {
  const versions = knownVersions(input);
  const latest = latestSwitches(input.switches);
  return input.devices.map((d) => {
    const channel = d.channel ?? 'stable';
    const groups = splitGroups(d.groups);
    const lastSeenMs = toMs(d.last_seen) ?? toMs(d.agent_seen);
    const stale = lastSeenMs === undefined || input.now - lastSeenMs > input.staleAfterMs;
    const mine = latest.get(d.id) ?? new Map<string, DeploymentRow>();
    const last = [...mine.values()].sort((a, b) => Number(b.local_id) - Number(a.local_id))[0];
    const newest = newestFor(channel, versions, input.rollouts) ?? null;
    const updating = last !== undefined && last.outcome === null;
    const health: Health = stale
      ? 'stale'
      : updating
        ? 'updating'
        : d.status === 'online' || d.status === 'stopped'
          ? d.status
          : 'unknown';
    const device = { id: d.id, groups, pinned: d.pinned, version: d.app_version };
    return {
      id: d.id,
      hostname: d.hostname,
      version: d.app_version,
      channel,
      groups,
      pinned: d.pinned,
      health,
      stale,
      lastSeen: toIso(d.last_seen),
      agentSeen: toIso(d.agent_seen),
      newest,
      behind:
        newest === null || isAtLeast(d.app_version, newest)
          ? null
          : whyBehind(device, newest, mine.get(newest), input.rollouts.get(newest), {
              stale,
              hasAgent: d.agent_seen !== null && d.agent_seen !== undefined,
            }),
      lastSwitch: last ? { to: last.to_version, outcome: last.outcome } : null,
    };
  });
}

/**
 * Why a device does not run the newest release, from what the database shows: a pin first,
 * then this device's own attempt, the release's groups and percentage (the agent's own bucket
 * function), the rollout's halt (for a device those let in), then the device being offline.
 */
export function whyBehind(
  device: { id: string; groups: readonly string[]; pinned: string | null },
  newest: string,
  attempt: DeploymentRow | undefined,
  rollout: RolloutState | undefined,
  seen: { stale: boolean; hasAgent: boolean },
): string {
  if (device.pinned) return `pinned to ${device.pinned}`;
  if (attempt?.outcome === 'failed' || attempt?.outcome === 'rolled-back') {
    const what = attempt.outcome === 'failed' ? 'failed' : 'rolled back';
    return `${newest} ${what} here${attempt.reason ? `: ${attempt.reason}` : ''}`;
  }
  if (attempt && attempt.outcome === null) return `updating to ${newest}`;
  const policy = rollout?.policy;
  if (policy?.groups && !policy.groups.some((g) => device.groups.includes(g))) {
    return `${newest} is limited to groups ${policy.groups.join(', ')}`;
  }
  if (policy && rolloutBucket(device.id, newest) >= policy.percent) {
    return `${newest} is at ${policy.percent}%; this device is not in yet`;
  }
  // Only for a device the rule lets in: the halt is then what keeps it back.
  if (rollout?.haltedAt) {
    return `${newest} halted${rollout.haltReason ? `: ${rollout.haltReason}` : ''}`;
  }
  if (attempt?.outcome === 'abandoned') return `${newest} abandoned here`;
  if (!seen.hasAgent) return 'no agent has reported for this device';
  if (seen.stale) return 'offline: not seen recently';
  return `waiting for its agent to take ${newest}`;
}

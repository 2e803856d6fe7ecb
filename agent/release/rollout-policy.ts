import { createHash } from 'node:crypto';
import { type HaltCriteria, parseHaltCriteria } from './halt-criteria.js';
import { PolicyError } from './policy-error.js';
import { parseActions, type RemoteAction } from './remote-actions.js';

export { PolicyError };

/**
 * The rollout policy kept in the app repository (see README, "Staged rollouts"): per release a
 * percentage of devices, the groups it is limited to, or its withdrawal; per group a version
 * it is held at. Parsing is strict: a policy that does not parse is rejected as a whole, so a
 * typo never widens or narrows a rollout by accident.
 */
export interface ReleaseRule {
  /** 0-100; devices whose bucket is below it get the release. Default 100. */
  readonly percent: number;
  /** When given, only devices in one of these groups get the release. */
  readonly groups: readonly string[] | undefined;
  /** A withdrawn release is never chosen; devices running it move to the best allowed one. */
  readonly withdrawn: boolean;
  /** Abort criteria: when given, devices read the release's outcomes before starting it. */
  readonly halt?: HaltCriteria | undefined;
}

export interface RolloutPolicy {
  readonly releases: ReadonlyMap<string, ReleaseRule>;
  /** group -> version that group is held at. */
  readonly holds: ReadonlyMap<string, string>;
  /** One-shot remote actions (remote-actions.ts), in the policy's order. */
  readonly actions: readonly RemoteAction[];
}

export const EMPTY_POLICY: RolloutPolicy = { releases: new Map(), holds: new Map(), actions: [] };

const GROUP = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

export function parsePolicy(text: string): RolloutPolicy {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PolicyError(`not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(raw)) throw new PolicyError('the policy must be a JSON object');
  for (const key of Object.keys(raw)) {
    if (key !== 'releases' && key !== 'holds' && key !== 'actions')
      throw new PolicyError(`unknown key "${key}"`);
  }
  const releases = new Map<string, ReleaseRule>();
  const rawReleases = raw.releases ?? {};
  if (!isObject(rawReleases)) throw new PolicyError('"releases" must be an object');
  for (const [version, rule] of Object.entries(rawReleases)) {
    const where = `releases["${version}"]`;
    if (!VERSION.test(version)) throw new PolicyError(`${where}: not a version like 1.4.0`);
    if (!isObject(rule)) throw new PolicyError(`${where} must be an object`);
    for (const key of Object.keys(rule)) {
      if (!['percent', 'groups', 'withdrawn', 'halt'].includes(key)) {
        throw new PolicyError(`${where}: unknown key "${key}"`);
      }
    }
    const percent = rule.percent ?? 100;
    if (typeof percent !== 'number' || !(percent >= 0 && percent <= 100)) {
      throw new PolicyError(`${where}.percent must be a number from 0 to 100`);
    }
    const groups = rule.groups;
    if (
      groups !== undefined &&
      !(Array.isArray(groups) && groups.every((g) => typeof g === 'string' && GROUP.test(g)))
    ) {
      throw new PolicyError(`${where}.groups must be a list of group names`);
    }
    if (rule.withdrawn !== undefined && typeof rule.withdrawn !== 'boolean') {
      throw new PolicyError(`${where}.withdrawn must be true or false`);
    }
    releases.set(version, {
      percent,
      groups: groups as string[] | undefined,
      withdrawn: rule.withdrawn === true,
      halt: rule.halt === undefined ? undefined : parseHaltCriteria(`${where}.halt`, rule.halt),
    });
  }
  const holds = new Map<string, string>();
  const rawHolds = raw.holds ?? {};
  if (!isObject(rawHolds)) throw new PolicyError('"holds" must be an object');
  for (const [group, version] of Object.entries(rawHolds)) {
    if (!GROUP.test(group)) throw new PolicyError(`holds: "${group}" is not a group name`);
    if (typeof version !== 'string' || !VERSION.test(version)) {
      throw new PolicyError(`holds["${group}"] must be a version like 1.4.0`);
    }
    holds.set(group, version);
  }
  return { releases, holds, actions: parseActions(raw.actions) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The device's place (0 <= bucket < 100) for one version: a stable hash of device id and
 * version, so the same device always gets the same answer, raising the percentage only adds
 * devices, and each release samples a different set of devices first.
 */
export function rolloutBucket(deviceId: string, version: string): number {
  const digest = createHash('sha256').update(`${deviceId}\n${version}`).digest();
  return (digest.readUInt32BE(0) / 2 ** 32) * 100;
}

export type Admission =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: string };

/** Whether a release may go to this device under the policy. Pure. */
export function admits(
  policy: RolloutPolicy,
  device: { readonly id: string; readonly groups: readonly string[] },
  version: string,
): Admission {
  const rule = policy.releases.get(version);
  if (!rule) return { allowed: true };
  if (rule.withdrawn) return { allowed: false, reason: `${version} was withdrawn` };
  if (rule.groups && !rule.groups.some((g) => device.groups.includes(g))) {
    return { allowed: false, reason: `${version} is limited to groups ${rule.groups.join(', ')}` };
  }
  if (rolloutBucket(device.id, version) >= rule.percent) {
    return {
      allowed: false,
      reason: `${version} is at ${rule.percent}%; this device is not in yet`,
    };
  }
  return { allowed: true };
}

/** The version a group of this device is held at, if any (the first of its groups that is). */
export function heldAt(policy: RolloutPolicy, groups: readonly string[]): string | undefined {
  for (const group of groups) {
    const version = policy.holds.get(group);
    if (version) return version;
  }
  return undefined;
}

/**
 * Why this device must leave the version it runs for a lower one, if it must. Only an
 * explicit withdrawal of that version or a hold of one of its groups at another version moves
 * a device down; a percentage or group rule only decides who gets a release next, so lowering
 * one never rolls back a device that already runs the release. Pure.
 */
export function downgradeReason(
  policy: RolloutPolicy,
  groups: readonly string[],
  running: string,
): string | undefined {
  if (policy.releases.get(running)?.withdrawn) return `${running} was withdrawn`;
  const hold = heldAt(policy, groups);
  if (hold !== undefined && hold !== running) return `this device's group is held at ${hold}`;
  return undefined;
}

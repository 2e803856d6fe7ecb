import { PolicyError } from './policy-error.js';

/**
 * One-shot remote actions, addressed in the rollout policy (`"actions"` in ota-policy.json) to
 * devices by id and/or by group. Each id runs at most once per device: the agent records it in
 * its own state before it acts (agent/actions/action-runner.ts). Parsing is strict, like the
 * rest of the policy: an action that does not parse rejects the whole policy.
 */
export const ACTION_KINDS = ['restart-app', 'health-check', 'diagnostics'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export interface RemoteAction {
  readonly id: string;
  readonly do: ActionKind;
  /** Device ids it is addressed to. */
  readonly devices: readonly string[];
  /** Groups it is addressed to: a device in any of them runs it. */
  readonly groups: readonly string[];
}

export const ACTION_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const GROUP = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DEVICE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const KEYS = ['id', 'do', 'devices', 'groups'];

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function names(where: string, value: unknown, pattern: RegExp, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && pattern.test(v))) {
    throw new PolicyError(`${where} must be a list of ${what}`);
  }
  return value as string[];
}

/** The policy's `actions` list, validated; messages name the offending path. */
export function parseActions(raw: unknown): RemoteAction[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new PolicyError('"actions" must be a list');
  const seen = new Set<string>();
  return raw.map((entry, i) => {
    const where = `actions[${i}]`;
    if (!isObject(entry)) throw new PolicyError(`${where} must be an object`);
    for (const key of Object.keys(entry)) {
      if (!KEYS.includes(key)) throw new PolicyError(`${where}: unknown key "${key}"`);
    }
    const { id } = entry;
    if (typeof id !== 'string' || !ACTION_ID.test(id)) {
      throw new PolicyError(
        `${where}.id must be lower-case letters, digits, ".", "_" or "-" (at most 64, like restart-2026-11-24)`,
      );
    }
    if (seen.has(id)) throw new PolicyError(`${where}.id "${id}" is used twice`);
    seen.add(id);
    if (!ACTION_KINDS.includes(entry.do as ActionKind)) {
      throw new PolicyError(`${where}.do must be one of ${ACTION_KINDS.join(', ')}`);
    }
    const devices = names(`${where}.devices`, entry.devices, DEVICE, 'device ids');
    const groups = names(`${where}.groups`, entry.groups, GROUP, 'group names');
    if (devices.length === 0 && groups.length === 0) {
      throw new PolicyError(`${where} must name "devices" or "groups" (or both)`);
    }
    return { id, do: entry.do as ActionKind, devices, groups };
  });
}

/** Whether the action is addressed to this device: listed, or in one of its groups. Pure. */
export function addressedTo(
  action: RemoteAction,
  device: { readonly id: string; readonly groups: readonly string[] },
): boolean {
  return action.devices.includes(device.id) || action.groups.some((g) => device.groups.includes(g));
}

/**
 * The actions this device must still run, in policy order: addressed to it and never started
 * here (`done` holds every id the device recorded, whatever its outcome, so an interrupted or
 * failed action is not run again). Pure.
 */
export function dueActions(
  actions: readonly RemoteAction[],
  done: ReadonlySet<string>,
  device: { readonly id: string; readonly groups: readonly string[] },
): RemoteAction[] {
  return actions.filter((a) => !done.has(a.id) && addressedTo(a, device));
}

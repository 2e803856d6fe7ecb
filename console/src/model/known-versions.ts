import { onChannel } from '../../../agent/release/select.js';
import { compareVersions, parseVersion, type Version } from '../../../agent/release/version.js';
import type { RolloutState } from './rollout-state.js';

/** Newest first; text that is not a version sorts last, by name. */
export function byVersionDesc(a: string, b: string): number {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  if (va && vb) return compareVersions(vb, va);
  if (va || vb) return va ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The newest release a device on this channel could be offered, from every version the
 * database knows of (running, deployed, or evaluated by an agent); withdrawn ones excluded.
 * The same channel rule as the agent's selection (agent/release/select.ts).
 */
export function newestFor(
  channel: string,
  versions: Iterable<string>,
  rollouts: ReadonlyMap<string, RolloutState>,
): string | undefined {
  let best: Version | undefined;
  for (const text of versions) {
    const v = parseVersion(text);
    if (!v || !onChannel(v, channel)) continue;
    if (rollouts.get(v.text)?.policy?.withdrawn) continue;
    if (!best || compareVersions(v, best) > 0) best = v;
  }
  return best?.text;
}

/** Whether `running` is at least `target` (a device ahead of the newest is not behind). */
export function isAtLeast(running: string | null, target: string): boolean {
  if (running === null) return false;
  const a = parseVersion(running);
  const b = parseVersion(target);
  return a !== undefined && b !== undefined ? compareVersions(a, b) >= 0 : running === target;
}

import { compareVersions, isPrerelease, type Version } from './version.js';

export interface Candidate {
  readonly version: Version;
  /** The commit the tag points to (peeled). */
  readonly commit: string;
  /** The object the tag ref names (a tag object, or the commit of a lightweight tag). */
  readonly object?: string | undefined;
}

export interface DeviceContext {
  /** 'stable' takes releases only; another name (e.g. 'beta') also takes pre-releases whose
   * first identifier is that name (1.4.0-beta.2). */
  readonly channel: string;
  /** Versions (canonical text) this device must not try again. */
  readonly failed: ReadonlySet<string>;
  /** Versions refused for another reason (bad signature, moved tag), with the reason. */
  readonly refused: ReadonlyMap<string, string>;
  /** The rollout policy's verdict for a version (percentage, groups, withdrawal). */
  readonly admit?: (version: string) => { allowed: true } | { allowed: false; reason: string };
  /** A group hold: this exact version, whatever is newer. */
  readonly hold?: string | undefined;
}

export type Exclusion = { readonly version: string; readonly reason: string };

export interface Selection {
  /** The highest eligible version, if any. */
  readonly target: Candidate | undefined;
  /** Versions above the target that were passed over, and why. */
  readonly excluded: readonly Exclusion[];
}

export function onChannel(version: Version, channel: string): boolean {
  if (!isPrerelease(version)) return true;
  return channel !== 'stable' && version.prerelease[0] === channel;
}

/** Picks the version this device should run. Pure: no I/O, no clock. */
export function selectTarget(candidates: readonly Candidate[], device: DeviceContext): Selection {
  const sorted = [...candidates].sort((a, b) => compareVersions(b.version, a.version));
  const excluded: Exclusion[] = [];
  for (const candidate of sorted) {
    const text = candidate.version.text;
    if (!onChannel(candidate.version, device.channel)) {
      excluded.push({ version: text, reason: `pre-release not on channel ${device.channel}` });
    } else if (device.failed.has(text)) {
      excluded.push({ version: text, reason: 'failed on this device before' });
    } else if (device.refused.has(text)) {
      excluded.push({ version: text, reason: device.refused.get(text) ?? 'refused' });
    } else if (device.hold !== undefined) {
      if (text === device.hold) return { target: candidate, excluded };
      excluded.push({ version: text, reason: `this device's group is held at ${device.hold}` });
    } else {
      const verdict = device.admit?.(text) ?? { allowed: true };
      if (verdict.allowed) return { target: candidate, excluded };
      excluded.push({ version: text, reason: verdict.reason });
    }
  }
  return { target: undefined, excluded };
}

import type { Candidate } from './select.js';

export interface AliasConflict {
  readonly version: string;
  /** The tag names of the version, sorted. */
  readonly tags: readonly string[];
  /** The distinct commits they name, in the order of `tags`. */
  readonly commits: readonly string[];
  readonly reason: string;
}

/**
 * Versions whose tags (v1.2.0, 1.2.0, v1.2.0+meta are one version) name different commits.
 * Which commit such a version means cannot be told, so it is refused as a whole. Pure.
 */
export function aliasConflicts(known: readonly Candidate[]): Map<string, AliasConflict> {
  const byVersion = new Map<string, Candidate[]>();
  for (const k of known) {
    byVersion.set(k.version.text, [...(byVersion.get(k.version.text) ?? []), k]);
  }
  const conflicts = new Map<string, AliasConflict>();
  for (const [version, group] of byVersion) {
    const sorted = [...group].sort((a, b) => (a.version.tag < b.version.tag ? -1 : 1));
    const commits = [...new Set(sorted.map((k) => k.commit))];
    if (commits.length < 2) continue;
    const tags = sorted.map((k) => k.version.tag);
    const reason = `tags ${tags.join(', ')} of version ${version} point to different commits (${commits.map((c) => c.slice(0, 12)).join(', ')}): refused`;
    conflicts.set(version, { version, tags, commits, reason });
  }
  return conflicts;
}

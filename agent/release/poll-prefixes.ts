import type { Version } from './version.js';

/** How many next values of each field a cheap poll asks for. */
export const LOOKAHEAD = 3;

/**
 * The tag-name prefixes (after refs/tags/) that hold every version above `current` reachable
 * by raising one field by at most LOOKAHEAD. Each prefix is exact: "v1.5" matches only minors
 * 5, 50-59, 500-599... of major 1, all above 1.4.x, so no old tag is ever sent back and a
 * poll's cost does not grow with the number of old tags. A bigger jump (1.4.2 -> 1.9.0) is
 * found by the periodic full sweep. Pure.
 */
export function pollPrefixes(current: Version, lookahead = LOOKAHEAD): string[] {
  const v = current.tag.startsWith('v') ? 'v' : '';
  const { major: M, minor: m, patch: p } = current;
  const prefixes: string[] = [];
  // A pre-release's own release and its later pre-releases: 1.5.0-beta.2 -> 1.5.0, 1.5.0-rc.1.
  if (current.prerelease.length > 0) prefixes.push(`${v}${M}.${m}.${p}`);
  for (let i = 1; i <= lookahead; i++) prefixes.push(`${v}${M}.${m}.${p + i}`);
  for (let i = 1; i <= lookahead; i++) prefixes.push(`${v}${M}.${m + i}`);
  for (let i = 1; i <= lookahead; i++) prefixes.push(`${v}${M + i}`);
  return prefixes;
}

/** Whether a tag name falls under one of the prefixes (the server's ref-prefix rule). */
export function matchesPrefixes(tag: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => tag.startsWith(prefix));
}

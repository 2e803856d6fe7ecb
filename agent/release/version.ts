/** A release version parsed from a git tag: semver 2.0, with or without a leading "v". */
export interface Version {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Pre-release identifiers, e.g. ['beta', 2] for 1.4.0-beta.2; empty for a release. */
  readonly prerelease: readonly (string | number)[];
  /** The canonical text without "v" or build metadata, e.g. "1.4.0-beta.2". */
  readonly text: string;
  /** The tag name exactly as in the repository, e.g. "v1.4.0-beta.2". */
  readonly tag: string;
}

export const MAX_TAG_LENGTH = 128;

/** Shared by every release version: a device may hold 10,000 parsed versions at once. */
const NO_PRERELEASE: readonly (string | number)[] = Object.freeze([]);

const NUM = '0|[1-9]\\d*';
const IDENT = `(?:${NUM}|\\d*[A-Za-z-][0-9A-Za-z-]*)`;
const SEMVER = new RegExp(
  `^v?(${NUM})\\.(${NUM})\\.(${NUM})(?:-(${IDENT}(?:\\.${IDENT})*))?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?$`,
);

/** Parses a tag name; anything that is not a well-formed version gives `undefined`. */
export function parseVersion(tag: string): Version | undefined {
  if (tag.length > MAX_TAG_LENGTH) return undefined;
  const m = SEMVER.exec(tag);
  if (!m) return undefined;
  const [major, minor, patch] = [m[1], m[2], m[3]].map(Number) as [number, number, number];
  if (![major, minor, patch].every(Number.isSafeInteger)) return undefined;
  const prerelease = m[4]
    ? m[4].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id))
    : NO_PRERELEASE;
  if (prerelease.some((id) => typeof id === 'number' && !Number.isSafeInteger(id))) {
    return undefined;
  }
  const core = `${major}.${minor}.${patch}`;
  return {
    major,
    minor,
    patch,
    prerelease,
    text: prerelease.length ? `${core}-${prerelease.join('.')}` : core,
    tag,
  };
}

/** Semver precedence: negative if a < b, 0 if equal, positive if a > b. */
export function compareVersions(a: Version, b: Version): number {
  for (const key of ['major', 'minor', 'patch'] as const) {
    if (a[key] !== b[key]) return a[key] - b[key];
  }
  const pa = a.prerelease;
  const pb = b.prerelease;
  if (pa.length === 0 || pb.length === 0) return pb.length - pa.length;
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

export const isPrerelease = (v: Version): boolean => v.prerelease.length > 0;

import { InvalidArgumentError } from '../errors.js';
import { parseVersion } from '../release/version.js';

export const HISTORY_DEFAULT = 20;
export const HISTORY_MAX = 1000;

/**
 * A version as `ota` and the control socket take it: the project's semver, with or without
 * "v". Returns the canonical text the agent names images and containers by ("v1.2.0" gives
 * "1.2.0"). Anything else is refused here, before it reaches the engine: a path such as
 * ../../etc/passwd in an image reference made the engine answer with a redirect that dockerode
 * followed to a host named "images", and the unhandled error took the agent down.
 */
export function parseVersionArgument(value: unknown, argument: string): string {
  const version = typeof value === 'string' ? parseVersion(value) : undefined;
  if (!version) {
    throw new InvalidArgumentError(argument, 'a version such as 1.2.0 or v1.2.0-beta.1', value);
  }
  return version.text;
}

/** How many history rows to show: a whole number from 1 to HISTORY_MAX. */
export function parseHistoryLimit(value: unknown, argument: string): number {
  const n = typeof value === 'string' && /^[0-9]{1,7}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= HISTORY_MAX)) {
    throw new InvalidArgumentError(argument, `a whole number from 1 to ${HISTORY_MAX}`, value);
  }
  return n;
}

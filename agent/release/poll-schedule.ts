/**
 * Delay before the next poll: the interval spread by +/- `jitter` (a fraction), so a fleet
 * started at the same moment does not poll in lockstep. Pure; randomness is a parameter.
 */
export function nextPollDelay(intervalMs: number, jitter: number, random: () => number): number {
  return Math.round(intervalMs * (1 - jitter + 2 * jitter * random()));
}

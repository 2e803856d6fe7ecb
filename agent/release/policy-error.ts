/** A rollout policy that does not parse; the message names the path of the offending value. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

/**
 * The agent's own record of who is in charge and where charge is going (table agent_leader).
 * Everything here is pure: agent/self/leader-lease.ts loads and writes it, the hand-over and
 * take-over executors act on what these functions decide.
 */

/** A hand-over from the agent in charge to a new agent built from a release. */
export interface Handover {
  readonly version: string;
  readonly commit: string;
  /** The new agent's image id and the agent's tag for it (edge-ota/agent:<version>). */
  readonly image: string;
  readonly ref: string;
  /** The agent being replaced (container id) and its image id (kept for going back by hand). */
  readonly from: string;
  readonly fromImage: string;
  /** The name the new agent takes once the old one is gone (the old one's name). */
  readonly name: string;
  /** The image name compose runs the agent from (ota-agent:local), pointed at the new image. */
  readonly composeImage: string | null;
  /** The new agent's container id, once created. */
  readonly candidate: string | null;
  /** starting: the new agent runs next to the old, not yet in charge; handing-over: it is. */
  readonly phase: 'starting' | 'handing-over';
  /** The deployments (audit) row of this hand-over. */
  readonly row: number;
}

export interface Lease {
  /** The container id of the agent in charge. */
  readonly container: string;
  readonly handover: Handover | null;
}

/** What the agent in charge looks like to another agent on the same engine. */
export type HolderState = 'running' | 'restarting' | 'stopped' | 'missing';

export type Role =
  /** This agent is in charge. */
  | { readonly kind: 'leader' }
  /** Nobody is (no row, or the holder's container is gone): claim it over `expected`. */
  | { readonly kind: 'claim'; readonly expected: string | null }
  /** A new agent started for a hand-over: get ready, wait to be given charge. */
  | { readonly kind: 'candidate' }
  /** Another agent is in charge: touch nothing, look again later. */
  | { readonly kind: 'standby'; readonly holder: string };

/**
 * Who this agent is, given the lease and the state of its holder's container. A holder that is
 * stopped (or restarting) is still the holder: Docker's restart policy brings it back, and two
 * agents must never act on the app at once. Only a holder whose container no longer exists
 * (removed by hand, or by `docker compose up` recreating the agent) is replaced.
 */
export function roleOf(me: string, lease: Lease | undefined, holder: HolderState): Role {
  if (!lease) return { kind: 'claim', expected: null };
  if (lease.container === me) return { kind: 'leader' };
  if (holder === 'missing') return { kind: 'claim', expected: lease.container };
  if (lease.handover?.candidate === me) return { kind: 'candidate' };
  return { kind: 'standby', holder: lease.container };
}

export type LeaderDuty =
  | { readonly kind: 'none' }
  /** Finish a hand-over to this agent: remove the old agent, take its name and image name. */
  | { readonly kind: 'take-over'; readonly handover: Handover }
  /** A hand-over this agent began and a restart cut short: remove the new agent, start over. */
  | { readonly kind: 'abort'; readonly handover: Handover };

/** What an agent that is (now) in charge must finish before it changes anything else. */
export function leaderDuty(me: string, handover: Handover | null): LeaderDuty {
  if (!handover) return { kind: 'none' };
  return handover.candidate === me ? { kind: 'take-over', handover } : { kind: 'abort', handover };
}

/**
 * The name a new agent starts under, next to the old one (it takes `name` afterwards): never
 * the running agent's own name (an agent whose rename failed is still called <name>-next).
 */
export const candidateName = (name: string, mine: string): string =>
  `${name}-next` === mine ? `${name}-next2` : `${name}-next`;

/** The name an agent hands on: a candidate left unrenamed by a cut hands on the canonical name. */
export const canonicalName = (name: string): string =>
  name.replace(/^\//, '').replace(/-next2?$/, '');

/** Hand-overs cut short by restarts before one is marked failed (each is tried again otherwise). */
export const HANDOVER_ATTEMPTS = 3;

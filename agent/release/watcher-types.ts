import type { SourceFailure } from '../errors.js';
import type { RolloutOutcomes, RolloutView } from './halt-check.js';
import type { RemoteAction } from './remote-actions.js';
import type { Exclusion } from './select.js';

// What the release watcher is given and what each of its polls answers.

export interface WatcherOptions {
  readonly channel: string;
  readonly requireSigned: boolean;
  readonly allowedSignersFile: string | undefined;
  /** Follow a tag that moved to another commit instead of refusing it. */
  readonly acceptMovedTags: boolean;
  /** How often a poll lists every tag instead of only the prefixes above the current one. */
  readonly sweepIntervalMs: number;
  readonly now: () => number;
  /** This device, for the rollout policy's percentages, groups and holds. */
  readonly device: { readonly id: string; readonly groups: readonly string[] };
  /** Keeps the policy in force across restarts (state volume); without it, memory only. */
  readonly policyFile?: string | undefined;
  /** The monotonic clock of ReleaseTarget.firstSeenAt; default performance.now. */
  readonly monotonic?: () => number;
  /**
   * The central database's rollout outcomes, for releases with halt criteria. Without it
   * (central reporting off) such releases are never started here.
   */
  readonly rollouts?: RolloutOutcomes | undefined;
}

export interface ReleaseTarget {
  readonly version: string;
  readonly tag: string;
  readonly commit: string;
  readonly signer: string | undefined;
  /**
   * When this device first saw the tag, on the monotonic clock (WatcherOptions.monotonic):
   * pull mode waits a while for an image pushed after the tag.
   */
  readonly firstSeenAt?: number | undefined;
}

export interface PollResult {
  readonly at: number;
  readonly mode: 'prefixes' | 'sweep';
  readonly tagsReceived: number;
  /** A version above the current one that this device should run, if any. */
  readonly target: ReleaseTarget | undefined;
  readonly excluded: readonly Exclusion[];
  readonly error: { readonly kind: SourceFailure; readonly message: string } | undefined;
  /** The rollout policy in force (its commit), if the repository has one. */
  readonly policy?: string | undefined;
  /** Standing refusals that keep the device where it is (a refused policy), for `ota status`. */
  readonly refusals?: readonly string[];
  /** Releases with halt criteria this poll evaluated (read from the central database). */
  readonly rollouts?: readonly RolloutView[];
  /** The remote actions of the policy in force (which are due here is the agent's call). */
  readonly actions?: readonly RemoteAction[];
}

import type { RolloutView } from '../release/release-watcher.js';
import type { FleetReport } from '../report/central-reporter.js';
import type { ActionRecord } from '../state/action-ledger.js';
import type { Deployment } from '../state/agent-state.js';

export interface StatusReport {
  readonly deviceId: string;
  readonly channel: string;
  /** The agent itself (when it runs in a container): version, container, what it was built from. */
  readonly agent?:
    | {
        readonly version: string;
        readonly container: string;
        readonly inputs: string | undefined;
        readonly origin: string;
      }
    | undefined;
  readonly running:
    | {
        readonly version: string;
        readonly container: string;
        readonly health: string;
        readonly startedAt: string;
      }
    | undefined;
  readonly previous: string | undefined;
  readonly pinned: string | undefined;
  readonly activity: {
    readonly state: string;
    readonly version: string | undefined;
    readonly since: string;
  };
  readonly lastPoll:
    | {
        readonly at: string;
        readonly mode: string;
        readonly target: string | undefined;
        readonly error: string | undefined;
        /** Newer versions not deployed here, and why (channel, policy, failed, signature). */
        readonly notDeployed: readonly { readonly version: string; readonly reason: string }[];
        /** The commit of the rollout policy in force, if any. */
        readonly policy: string | undefined;
        /** What was refused and keeps the device where it is (a policy, conflicting tags). */
        readonly refusals?: readonly string[];
        /** Releases with halt criteria the poll evaluated: halted, rolling out, or not readable. */
        readonly rollouts?: readonly RolloutView[];
      }
    | undefined;
  readonly failed: readonly { readonly version: string; readonly reason: string }[];
  /** The watch window in progress after a switch, if any (time watched so far, saved every 2 s). */
  readonly watch?: { readonly version: string; readonly watchedMs: number } | undefined;
  /** A change of the running version in flight, as recorded ahead of its steps. */
  readonly change?:
    | { readonly kind: string; readonly to: string; readonly phase: string }
    | undefined;
}

export interface ActionResult {
  readonly ok: boolean;
  readonly message: string;
  readonly detail?: unknown;
}

/** What `ota <command>` can ask the running agent; served on a Unix socket in the state dir. */
export interface AgentControl {
  status(): Promise<StatusReport>;
  history(limit: number): Promise<Deployment[]>;
  /** Remote actions recorded on this device, newest first (a diagnostics bundle only sized). */
  remoteActions(limit: number): Promise<ActionRecord[]>;
  check(): Promise<ActionResult>;
  rollback(version: string | undefined): Promise<ActionResult>;
  pin(version: string): Promise<ActionResult>;
  unpin(): Promise<ActionResult>;
  retry(version: string): Promise<ActionResult>;
  /** Read from the central database: every device's version and groups, rollout outcomes. */
  fleet(): Promise<FleetReport>;
}

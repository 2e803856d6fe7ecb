import type { PollResult } from './release/release-watcher.js';

export type Activity =
  | 'starting'
  | 'idle'
  | 'fetching'
  | 'building'
  | 'pulling'
  | 'deploying'
  | 'rolling-back'
  /** Building and starting a release's agent, which takes over once healthy. */
  | 'updating-agent'
  /** Charge passed to the new agent: this one waits to be removed by it. */
  | 'handed-over'
  | 'stopping';

/** What the agent is doing right now; read by `ota status` through the control socket. */
export class StatusBoard {
  activity: Activity = 'starting';
  activityVersion: string | undefined;
  activitySince = new Date().toISOString();
  lastPoll: PollResult | undefined;
  lastError: string | undefined;

  set(activity: Activity, version?: string): void {
    this.activity = activity;
    this.activityVersion = version;
    this.activitySince = new Date().toISOString();
  }
}

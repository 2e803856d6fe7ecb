import type { StatusReport } from './control/control-api.js';
import type { AppContainer } from './deploy/container-runtime.js';
import { type DeviceRecord, previousOf } from './state/device-record.js';
import type { StatusBoard } from './status.js';

/** What `ota status` shows, from what the agent knows: pure, no engine or database here. */
export function statusReport(s: {
  readonly deviceId: string;
  readonly channel: string;
  readonly agent: StatusReport['agent'];
  readonly running: AppContainer | undefined;
  readonly record: DeviceRecord;
  readonly board: StatusBoard;
  readonly pinned: string | undefined;
  readonly failed: ReadonlyMap<string, string>;
}): StatusReport {
  const { running, record, board } = s;
  const last = board.lastPoll;
  return {
    deviceId: s.deviceId,
    channel: s.channel,
    agent: s.agent,
    running: running && {
      version: running.version,
      container: running.name,
      health: running.health,
      startedAt: running.startedAt,
    },
    previous: previousOf(record),
    pinned: s.pinned,
    activity: {
      state: board.activity,
      version: board.activityVersion,
      since: board.activitySince,
    },
    lastPoll: last && {
      at: new Date(last.at).toISOString(),
      mode: last.mode,
      target: last.target?.version,
      error: last.error?.message,
      notDeployed: last.excluded,
      policy: last.policy,
      refusals: last.refusals ?? [],
      ...(last.rollouts ? { rollouts: last.rollouts } : {}),
    },
    failed: [...s.failed].map(([version, reason]) => ({ version, reason })),
    watch: record.watch
      ? { version: record.watch.version, watchedMs: record.watch.watchedMs }
      : undefined,
    change: record.change
      ? { kind: record.change.kind, to: record.change.to.version, phase: record.change.phase }
      : undefined,
  };
}

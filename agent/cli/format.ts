import type { ActionResult, StatusReport } from '../control/control-api.js';
import type { FleetReport, RolloutHalt } from '../report/central-reporter.js';
import type { Deployment } from '../state/agent-state.js';

export function formatStatus(s: StatusReport): string {
  const lines = [
    `device     ${s.deviceId} (channel ${s.channel})`,
    `running    ${s.running ? `${s.running.version}  ${s.running.health}  ${s.running.container}  since ${s.running.startedAt}` : 'nothing'}`,
    `previous   ${s.previous ?? '-'}`,
    ...(s.agent
      ? [
          `agent      ${s.agent.version}  ${s.agent.container}  (built from ${s.agent.origin === 'unknown' ? 'unknown inputs' : `inputs ${s.agent.inputs} via ${s.agent.origin}`})`,
        ]
      : []),
    `pinned     ${s.pinned ?? 'no'}`,
    `activity   ${s.activity.state}${s.activity.version ? ` ${s.activity.version}` : ''} since ${s.activity.since}`,
    `last poll  ${s.lastPoll ? `${s.lastPoll.at} (${s.lastPoll.mode}) ${s.lastPoll.error ?? (s.lastPoll.target ? `newer: ${s.lastPoll.target}` : 'up to date')}` : 'not yet'}`,
  ];
  if (s.lastPoll?.policy)
    lines.push(`policy     ${s.lastPoll.policy.slice(0, 12)} (ota-policy branch)`);
  for (const r of s.lastPoll?.refusals ?? []) lines.push(`refused    ${r}`);
  for (const r of s.lastPoll?.rollouts ?? []) lines.push(`rollout    ${r.text}`);
  for (const n of s.lastPoll?.notDeployed ?? []) lines.push(`waiting    ${n.version}: ${n.reason}`);
  if (s.change) lines.push(`changing   ${s.change.kind} to ${s.change.to} (${s.change.phase})`);
  if (s.watch) {
    lines.push(
      `watching   ${s.watch.version} for ${Math.round(s.watch.watchedMs / 1000)} s so far`,
    );
  }
  if (s.failed.length > 0) {
    lines.push('failed');
    for (const f of s.failed) lines.push(`  ${f.version}: ${summarizeReason(f.reason)}`);
  }
  return lines.join('\n');
}

const RETRY_NOTE = '(will retry)';

/** A reason's lines, trimmed, without empty ones or terminal control characters. */
function reasonLines(reason: string): string[] {
  return (
    reason
      .split(/\r?\n|\r/)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: they are what this removes (build output may hold escapes)
      .map((line) => line.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim())
      .filter((line) => line.length > 0)
  );
}

/**
 * A reason on one line: its first line, e.g. "build of 1.2.0 failed: ... returned a non-zero
 * code: 1", and how many lines were left out (a failed build carries the last 25 lines of its
 * output). The retry note the updater appends after those lines is kept.
 */
export function summarizeReason(reason: string): string {
  const lines = reasonLines(reason);
  const [first = ''] = lines;
  if (lines.length <= 1) return first;
  const retry = lines.at(-1)?.endsWith(RETRY_NOTE) ? ` ${RETRY_NOTE}` : '';
  return `${first}${retry} (+${lines.length - 1} lines: ota history --verbose)`;
}

/**
 * One line per deployment, newest first. With `verbose`, the rest of each reason follows its
 * row, indented, as the agent recorded it.
 */
export function formatHistory(rows: readonly Deployment[], verbose = false): string {
  if (rows.length === 0) return 'no deployments yet';
  return rows
    .map((d) => {
      const lines = d.reason ? reasonLines(d.reason) : [];
      const reason = verbose ? (lines[0] ?? '') : summarizeReason(d.reason ?? '');
      const row =
        `${d.startedAt}  ${d.kind.padEnd(13)} ${(d.from ?? '-').padEnd(12)} -> ${d.to.padEnd(12)} ${(d.outcome ?? 'in progress').padEnd(11)} ${reason}`.trimEnd();
      return verbose ? [row, ...lines.slice(1).map((l) => `    ${l}`)].join('\n') : row;
    })
    .join('\n');
}

export const formatAction = (r: ActionResult) => `${r.ok ? 'ok' : 'failed'}: ${r.message}`;

export function formatFleet(f: FleetReport): string {
  const lines = ['devices'];
  for (const d of f.devices) {
    lines.push(
      `  ${d.id.padEnd(24)} ${(d.version ?? '-').padEnd(12)} ${(d.status ?? '-').padEnd(8)} ${d.lastSeen ?? '-'}  ${d.groups.join(',')}`,
    );
  }
  const byVersion = new Map<string, number>();
  for (const d of f.devices)
    byVersion.set(d.version ?? '-', (byVersion.get(d.version ?? '-') ?? 0) + 1);
  lines.push('by version');
  for (const [version, n] of byVersion) lines.push(`  ${version.padEnd(12)} ${n}`);
  lines.push('rollouts (switches: succeeded / failed / rolled back)');
  for (const r of f.rollouts) {
    const counts = `${r.succeeded} / ${r.failed} / ${r.rolledBack}`;
    lines.push(
      `  ${r.version.padEnd(12)} ${counts.padEnd(14)} ${r.halt ? haltText(r.halt) : ''}`.trimEnd(),
    );
  }
  return lines.join('\n');
}

/** "HALTED since ...: 3 of 10 devices failed" or "halt at 20% after 5: 1 of 4 failed so far". */
function haltText(h: RolloutHalt): string {
  if (h.haltedAt)
    return `HALTED since ${h.haltedAt}: ${h.reason ?? `${h.failed} of ${h.tried} devices failed`}`;
  const limits =
    h.failedPercent === undefined
      ? 'halt criteria'
      : `halt at ${h.failedPercent}% after ${h.minDevices}`;
  return `${limits}: ${h.failed} of ${h.tried} failed so far`;
}

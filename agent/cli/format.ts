import type { ActionResult, StatusReport } from '../control/control-api.js';
import type { FleetReport } from '../report/central-reporter.js';
import type { Deployment } from '../state/agent-state.js';

export function formatStatus(s: StatusReport): string {
  const lines = [
    `device     ${s.deviceId} (channel ${s.channel})`,
    `running    ${s.running ? `${s.running.version}  ${s.running.health}  ${s.running.container}  since ${s.running.startedAt}` : 'nothing'}`,
    `previous   ${s.previous ?? '-'}`,
    `pinned     ${s.pinned ?? 'no'}`,
    `activity   ${s.activity.state}${s.activity.version ? ` ${s.activity.version}` : ''} since ${s.activity.since}`,
    `last poll  ${s.lastPoll ? `${s.lastPoll.at} (${s.lastPoll.mode}) ${s.lastPoll.error ?? (s.lastPoll.target ? `newer: ${s.lastPoll.target}` : 'up to date')}` : 'not yet'}`,
  ];
  if (s.lastPoll?.policy)
    lines.push(`policy     ${s.lastPoll.policy.slice(0, 12)} (ota-policy branch)`);
  for (const r of s.lastPoll?.refusals ?? []) lines.push(`refused    ${r}`);
  for (const n of s.lastPoll?.notDeployed ?? []) lines.push(`waiting    ${n.version}: ${n.reason}`);
  if (s.failed.length > 0) {
    lines.push('failed');
    for (const f of s.failed) lines.push(`  ${f.version}: ${f.reason}`);
  }
  return lines.join('\n');
}

export function formatHistory(rows: readonly Deployment[]): string {
  if (rows.length === 0) return 'no deployments yet';
  return rows
    .map((d) =>
      `${d.startedAt}  ${d.kind.padEnd(13)} ${(d.from ?? '-').padEnd(12)} -> ${d.to.padEnd(12)} ${(d.outcome ?? 'in progress').padEnd(11)} ${d.reason ?? ''}`.trimEnd(),
    )
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
    lines.push(`  ${r.version.padEnd(12)} ${r.succeeded} / ${r.failed} / ${r.rolledBack}`);
  }
  return lines.join('\n');
}

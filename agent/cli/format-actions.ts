import type { ActionRecord } from '../state/action-ledger.js';

/** The first line of an action's detail; a diagnostics bundle (JSON) is only named. */
function summary(a: ActionRecord): string {
  if (!a.detail) return '';
  if (a.kind === 'diagnostics' && a.detail.startsWith('{')) return 'bundle in the central database';
  return a.detail.split('\n')[0] ?? '';
}

/** One line per remote action, newest first: time, id, action, outcome, detail. */
export function formatActions(rows: readonly ActionRecord[]): string {
  if (rows.length === 0) return 'no remote actions yet';
  return rows
    .map((a) => {
      const outcome = a.state === 'started' ? 'in progress' : a.state;
      return `${a.startedAt}  ${a.id.padEnd(24)} ${a.kind.padEnd(13)} ${outcome.padEnd(11)} ${summary(a)}`.trimEnd();
    })
    .join('\n');
}

import { describe, expect, it } from 'vitest';
import { formatHistory, formatStatus, summarizeReason } from '../../agent/cli/format.js';
import type { StatusReport } from '../../agent/control/control-api.js';
import type { Deployment } from '../../agent/state/agent-state.js';

// What the updater records for a build that failed and will be retried: BuildError's message
// (the engine's error, then the last 25 lines of build output), then " (will retry)".
const buildOutput = Array.from({ length: 25 }, (_, i) =>
  i === 24 ? 'npm ERR! code E404' : `Step ${i + 1}/25 : RUN something ${i + 1}`,
);
const buildReason = `build of 1.2.0 failed: The command '/bin/sh -c npm ci' returned a non-zero code: 1\n${buildOutput.join('\n')} (will retry)`;

const row = (
  id: number,
  to: string,
  outcome: Deployment['outcome'],
  reason: string | null,
): Deployment => ({
  id,
  from: '1.1.0',
  to,
  commit: `c${id}`,
  kind: 'switch',
  startedAt: `2026-11-23T16:0${id}:00.000Z`,
  finishedAt: outcome ? `2026-11-23T16:0${id}:30.000Z` : null,
  outcome,
  reason,
});

const rows = [
  row(3, '1.2.0', 'failed', buildReason),
  row(2, '1.1.1', 'failed', 'reported unhealthy'),
  row(1, '1.1.0', 'succeeded', null),
];

describe('ota history', () => {
  it('prints one line per deployment: the first line of the reason, the retry note, what was left out', () => {
    const lines = formatHistory(rows).split('\n');
    expect(lines).toEqual([
      "2026-11-23T16:03:00.000Z  switch        1.1.0        -> 1.2.0        failed      build of 1.2.0 failed: The command '/bin/sh -c npm ci' returned a non-zero code: 1 (will retry) (+25 lines: ota history --verbose)",
      '2026-11-23T16:02:00.000Z  switch        1.1.0        -> 1.1.1        failed      reported unhealthy',
      '2026-11-23T16:01:00.000Z  switch        1.1.0        -> 1.1.0        succeeded',
    ]);
  });

  it('with --verbose, prints the whole reason under its row, indented', () => {
    const lines = formatHistory(rows, true).split('\n');
    expect(lines).toHaveLength(3 + 25);
    expect(lines[0]).toBe(
      "2026-11-23T16:03:00.000Z  switch        1.1.0        -> 1.2.0        failed      build of 1.2.0 failed: The command '/bin/sh -c npm ci' returned a non-zero code: 1",
    );
    expect(lines[1]).toBe('    Step 1/25 : RUN something 1');
    expect(lines[25]).toBe('    npm ERR! code E404 (will retry)');
    expect(lines[26]).toMatch(/1\.1\.1 +failed +reported unhealthy$/);
    expect(lines[27]).toMatch(/-> 1\.1\.0 +succeeded$/);
  });

  it('shows a deployment in progress and an empty history', () => {
    expect(formatHistory([row(4, '1.3.0', null, null)])).toMatch(/-> 1\.3\.0 +in progress$/);
    expect(formatHistory([])).toBe('no deployments yet');
  });
});

describe('reasons on one line', () => {
  it.each([
    ['reported unhealthy', 'reported unhealthy'],
    ['  not healthy within 120 s (starting)  ', 'not healthy within 120 s (starting)'],
    ['\n\nfirst\r\nsecond', 'first (+1 lines: ota history --verbose)'],
    [
      'dns: getaddrinfo EAI_AGAIN github.com (will retry)',
      'dns: getaddrinfo EAI_AGAIN github.com (will retry)',
    ],
    ['bell\u0007 and escape\u001b[31m', 'bell and escape[31m'],
    ['', ''],
    ['pulling 10%\rpulling 100%', 'pulling 10% (+1 lines: ota history --verbose)'],
  ])('%j is %j', (reason, summary) => {
    expect(summarizeReason(reason)).toBe(summary);
  });

  it('keeps ota status to one line per failed version', () => {
    const status: StatusReport = {
      deviceId: 'pi-1',
      channel: 'stable',
      running: undefined,
      previous: undefined,
      pinned: undefined,
      activity: { state: 'idle', version: undefined, since: '2026-11-23T16:00:00.000Z' },
      lastPoll: undefined,
      failed: [{ version: '1.2.0', reason: buildReason.replace(' (will retry)', '') }],
    };
    const text = formatStatus(status);
    expect(text.split('\n').slice(-2)).toEqual([
      'failed',
      "  1.2.0: build of 1.2.0 failed: The command '/bin/sh -c npm ci' returned a non-zero code: 1 (+25 lines: ota history --verbose)",
    ]);
  });
});

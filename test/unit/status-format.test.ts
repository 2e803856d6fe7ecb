import { describe, expect, it } from 'vitest';
import { formatFleet, formatStatus } from '../../agent/cli/format.js';
import type { StatusReport } from '../../agent/control/control-api.js';

describe('ota status', () => {
  it('says what was refused and keeps the device where it is', () => {
    const report: StatusReport = {
      deviceId: 'pi-1',
      channel: 'stable',
      running: undefined,
      previous: undefined,
      pinned: undefined,
      activity: { state: 'idle', version: undefined, since: '2026-11-24T00:00:00.000Z' },
      lastPoll: {
        at: '2026-11-24T00:00:00.000Z',
        mode: 'prefixes',
        target: undefined,
        error: undefined,
        notDeployed: [{ version: '9.0.0', reason: 'the signed tag is named v1.0.0, not v9.0.0' }],
        policy: '0123456789abcdef',
        refusals: ['policy refused: the ota-policy branch is gone; keeping 0123456789ab'],
      },
      failed: [],
    };
    const text = formatStatus(report);
    expect(text).toContain(
      'refused    policy refused: the ota-policy branch is gone; keeping 0123456789ab',
    );
    expect(text).toContain('waiting    9.0.0: the signed tag is named v1.0.0, not v9.0.0');
  });

  it('shows a halted rollout and one still rolling out', () => {
    const report: StatusReport = {
      deviceId: 'pi-1',
      channel: 'stable',
      running: undefined,
      previous: undefined,
      pinned: undefined,
      activity: { state: 'idle', version: undefined, since: '2026-11-24T00:00:00.000Z' },
      lastPoll: {
        at: '2026-11-24T00:00:00.000Z',
        mode: 'prefixes',
        target: undefined,
        error: undefined,
        notDeployed: [{ version: '1.4.0', reason: '1.4.0 halted: 3 of 10 devices failed' }],
        policy: '0123456789abcdef',
        rollouts: [
          {
            version: '1.4.0',
            state: 'halted',
            tried: 10,
            failed: 3,
            text: '1.4.0 halted: 3 of 10 devices failed',
          },
        ],
      },
      failed: [],
    };
    const text = formatStatus(report);
    expect(text).toContain('rollout    1.4.0 halted: 3 of 10 devices failed');
    expect(text).toContain('waiting    1.4.0: 1.4.0 halted: 3 of 10 devices failed');
  });
});

describe('ota fleet', () => {
  it('shows each release with halt criteria: halted, or how far from its halt', () => {
    const halt = {
      failedPercent: 20,
      minDevices: 5,
      updatedAt: '2026-11-24T12:00:00.000Z',
      updatedBy: 'pi-9',
    };
    const text = formatFleet({
      devices: [],
      rollouts: [
        { version: '1.3.0', succeeded: 9, failed: 0, rolledBack: 0 },
        {
          version: '1.4.0',
          succeeded: 7,
          failed: 2,
          rolledBack: 1,
          halt: {
            ...halt,
            tried: 10,
            failed: 3,
            haltedAt: '2026-11-24T11:00:00.000Z',
            reason: '3 of 10 devices failed',
          },
        },
        {
          version: '1.5.0',
          succeeded: 3,
          failed: 1,
          rolledBack: 0,
          halt: { ...halt, tried: 4, failed: 1, haltedAt: undefined, reason: undefined },
        },
      ],
    });
    expect(text.split('\n').slice(-3)).toEqual([
      '  1.3.0        9 / 0 / 0',
      '  1.4.0        7 / 2 / 1      HALTED since 2026-11-24T11:00:00.000Z: 3 of 10 devices failed',
      '  1.5.0        3 / 1 / 0      halt at 20% after 5: 1 of 4 failed so far',
    ]);
  });
});

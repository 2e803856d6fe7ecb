import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../agent/cli/format.js';
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
});

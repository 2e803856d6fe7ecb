import { describe, expect, it } from 'vitest';
import { healthCommand } from '../../agent/deploy/readiness-probe.js';

describe("a container's HEALTHCHECK as the command the agent runs", () => {
  it('runs CMD as given and CMD-SHELL through /bin/sh, and nothing for NONE or no check', () => {
    expect(healthCommand(['CMD', 'node', 'dist/app/health-check.js'])).toEqual([
      'node',
      'dist/app/health-check.js',
    ]);
    expect(healthCommand(['CMD-SHELL', 'curl -f http://localhost/ || exit 1'])).toEqual([
      '/bin/sh',
      '-c',
      'curl -f http://localhost/ || exit 1',
    ]);
    expect(healthCommand(['NONE'])).toBeUndefined();
    expect(healthCommand(['CMD'])).toBeUndefined();
    expect(healthCommand([])).toBeUndefined();
    expect(healthCommand(undefined)).toBeUndefined();
  });
});

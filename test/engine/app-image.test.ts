import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseImageArgs, docker, REPO_ROOT, waitForHealth } from '../helpers/docker-cli.js';

const IMAGE = 'ota-test/weather-app:ci';
const TEST_LABEL = 'ota-test=app-image';

describe('Dockerfile.app on the real engine', () => {
  const suffix = randomUUID().slice(0, 8);
  const container = `ota-test-app-${suffix}`;
  const volume = `ota-test-app-data-${suffix}`;

  beforeAll(async () => {
    await docker([
      'build',
      '-f',
      'Dockerfile.app',
      ...baseImageArgs(),
      '--build-arg',
      'VERSION=1.2.3',
      '--build-arg',
      'REVISION=0123456789abcdef0123456789abcdef01234567',
      '--build-arg',
      'SOURCE=https://example.invalid/weather.git',
      '--label',
      TEST_LABEL,
      '-t',
      IMAGE,
      REPO_ROOT,
    ]);
  });

  afterAll(async () => {
    await docker(['rm', '-f', container]).catch(() => undefined);
    await docker(['volume', 'rm', '-f', volume]).catch(() => undefined);
  });

  it('carries OCI labels and runs as a non-root user', async () => {
    const labels = JSON.parse(
      await docker(['image', 'inspect', '-f', '{{json .Config.Labels}}', IMAGE]),
    );
    expect(labels['org.opencontainers.image.version']).toBe('1.2.3');
    expect(labels['org.opencontainers.image.revision']).toBe(
      '0123456789abcdef0123456789abcdef01234567',
    );
    expect(labels['org.opencontainers.image.source']).toBe('https://example.invalid/weather.git');
    expect(await docker(['image', 'inspect', '-f', '{{.Config.User}}', IMAGE])).toBe('1000:1000');
  });

  it('turns healthy once it stored a reading, and stops cleanly in under 2 s', async () => {
    await docker([
      'run',
      '-d',
      '--name',
      container,
      '--label',
      TEST_LABEL,
      '-v',
      `${volume}:/data`,
      '-e',
      'WEATHER_DEVICE_ID=pi-image-test',
      '-e',
      'WEATHER_INTERVAL_MS=500',
      IMAGE,
    ]);
    const ms = await waitForHealth(container, 'healthy', 60_000);
    expect(ms).toBeLessThan(60_000);

    const started = Date.now();
    await docker(['stop', container]);
    const stopMs = Date.now() - started;
    expect(stopMs).toBeLessThan(2_000);
    expect(await docker(['inspect', '-f', '{{.State.ExitCode}}', container])).toBe('0');

    const logs = (await docker(['logs', container])).split('\n').map((l) => JSON.parse(l));
    const stopped = logs.find((e) => e.msg === 'stopped');
    expect(stopped?.version).toBe('1.2.3');
    expect(stopped?.deviceId).toBe('pi-image-test');
    expect(stopped?.uploaded).toBeGreaterThan(0);
    expect(stopped?.pending).toBe(0);
  });
});

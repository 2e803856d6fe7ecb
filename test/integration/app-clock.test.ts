import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { AppProcess } from '../helpers/app-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);
const CHECK = join(import.meta.dirname, '../../dist/app/health-check.js');

/**
 * The container's HEALTHCHECK, run as Docker runs it (a new process), with the wall clock
 * stepped by libfaketime as NTP steps a Pi's clock after boot; the monotonic clock untouched.
 */
async function healthCheck(file: string, step: string): Promise<{ code: number; out: string }> {
  const args = ['-f', step, process.execPath, CHECK];
  const env = { ...process.env, WEATHER_HEALTH_FILE: file, FAKETIME_DONT_FAKE_MONOTONIC: '1' };
  try {
    const { stdout } = await run('faketime', args, { env });
    return { code: 0, out: stdout.trim() };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: e.stdout?.trim() };
  }
}

describe("the app's health check while the wall clock jumps (real app, real faketime)", () => {
  const apps: AppProcess[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.stop();
  });

  /** The real app, started and found healthy by the real health check (no clock step yet). */
  async function healthyApp() {
    const dir = tempDir();
    const file = join(dir, 'health.json');
    const app = new AppProcess({
      WEATHER_DATA_DIR: dir,
      WEATHER_HEALTH_FILE: file,
      WEATHER_DEVICE_ID: 'pi-clock',
      WEATHER_INTERVAL_MS: '200',
    });
    apps.push(app);
    await app.waitFor('started');
    for (let i = 0; i < 50 && (await healthCheck(file, '+0s')).code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    return { app, file };
  }

  it('a healthy app stays healthy when the clock steps an hour forwards or back', async () => {
    const { file } = await healthyApp();
    expect(await healthCheck(file, '+0s')).toMatchObject({ code: 0 });
    expect(await healthCheck(file, '+1h')).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^healthy/),
    });
    expect(await healthCheck(file, '-1h')).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^healthy/),
    });
  });

  it('a stalled app is still found unhealthy whatever the wall clock says', async () => {
    const { app, file } = await healthyApp();
    await app.kill(); // stalls: no more readings; the status file stays as it was
    apps.pop();
    await new Promise((r) => setTimeout(r, 6_500)); // the limit: 3 intervals + 5 s = 5.6 s
    const verdicts = await Promise.all(['+0s', '-1h'].map((s) => healthCheck(file, s)));
    expect(verdicts.map((v) => v.code)).toEqual([1, 1]);
  });
});

import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HookPoint } from '../../agent/deploy/step-executor.js';
import {
  buildFixture,
  cleanupManaged,
  FIXTURE_REPO,
  makeDeployer,
  target,
} from '../helpers/deploy-fixture.js';
import { docker } from '../helpers/docker-cli.js';
import { tempDir, tempDirForSuite } from '../helpers/temp-dir.js';

const BROKEN = '4.0.0';

describe('a switch on the real engine, when the release or the clock misbehaves', () => {
  const suiteDir = tempDirForSuite();
  let names: { network: string; volume: string };
  let engine: Docker | undefined;

  beforeAll(async () => {
    await Promise.all([buildFixture('1.0.0', 'healthy'), buildFixture('1.1.0', 'healthy')]);
    // A release whose command does not exist: `docker start` itself fails.
    const dir = suiteDir;
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${FIXTURE_REPO}:1.0.0\nCMD ["/no/such/binary"]\n`);
    await docker([
      'build',
      '-q',
      '--label',
      'ota-test=deploy',
      '-t',
      `${FIXTURE_REPO}:${BROKEN}`,
      dir,
    ]);
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    if (engine) await cleanupManaged(engine, names);
  });

  async function setup(overrides = {}) {
    const id = randomUUID().slice(0, 8);
    names = { network: `ota-test-net-${id}`, volume: `ota-test-data-${id}` };
    const made = await makeDeployer(tempDir(), names, overrides);
    engine = made.docker;
    return made;
  }

  it('a release whose command does not exist fails its switch: recorded, marked, cleaned up, old app untouched', async () => {
    const { deployer, runtime, state } = await setup();
    await deployer.switchTo(target('1.0.0'));
    const before = (await deployer.running())?.id;

    const result = await deployer.switchTo(target(BROKEN));
    expect(result).toMatchObject({ outcome: 'failed', version: BROKEN });
    const all = await runtime.list();
    expect(all.map((c) => [c.id, c.state])).toEqual([[before, 'running']]);
    expect((await state.failedVersions()).get(BROKEN)).toMatch(/start/);
    expect(await state.unfinished()).toBeUndefined();
    const [row] = await state.history(1);
    expect(row).toMatchObject({ to: BROKEN, outcome: 'failed' });
  });

  it('gate and watch durations hold while the wall clock jumps an hour forwards, then back', async () => {
    // What NTP does to a Pi without a real-time clock: the wall clock steps after boot.
    let offset = 0;
    const wall = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => wall() + offset);
    let switched = false;
    let sleepsAfterSwitch = 0;
    const { deployer, state } = await setup({
      healthTimeoutMs: 20_000,
      watchMs: 5_000,
      beforeStep: (p: HookPoint) => {
        if (p.action === 'await-healthy' && p.version === '1.1.0') {
          setTimeout(() => {
            offset = 3_600_000;
          }, 200);
        }
        if (p.action === 'stop') switched = true;
      },
      sleep: (ms: number) => {
        if (switched && ++sleepsAfterSwitch === 3) offset = -3_600_000;
        return new Promise<void>((r) => setTimeout(r, ms));
      },
    });
    await deployer.switchTo(target('1.0.0'));

    const started = performance.now();
    const result = await Promise.race([
      deployer.switchTo(target('1.1.0')),
      new Promise((r) => setTimeout(() => r('still watching after 60 s'), 60_000)),
    ]);
    expect(result).toMatchObject({ outcome: 'succeeded', version: '1.1.0' });
    expect(switched).toBe(true);
    expect(offset).toBe(-3_600_000); // both jumps happened during the switch
    expect(performance.now() - started).toBeGreaterThanOrEqual(5_000); // the whole watch ran
    expect((await state.failedVersions()).has('1.1.0')).toBe(false);
    expect((await deployer.running())?.version).toBe('1.1.0');
  });
});

import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import type { HookPoint } from '../../agent/deploy/step-executor.js';
import { buildFixture, cleanupManaged, makeDeployer, target } from '../helpers/deploy-fixture.js';
import { tempDir } from '../helpers/temp-dir.js';

/** The running dockerd: its pid and the exact command line to start it again. */
function dockerd(): { pid: number; argv: string[] } | undefined {
  try {
    const pid = Number(execFileSync('pgrep', ['-xo', 'dockerd']).toString().trim());
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return pid > 0 && argv.length > 0 ? { pid, argv } : undefined;
  } catch {
    return undefined;
  }
}

const engineProcess = process.getuid?.() === 0 ? dockerd() : undefined;
const SKIP = engineProcess
  ? ''
  : ' (SKIPPED: needs root and a dockerd process this test may restart)';

async function engineUp(docker: Docker, ms = 60_000): Promise<void> {
  const end = performance.now() + ms;
  for (;;) {
    if (
      await docker.ping().then(
        () => true,
        () => false,
      )
    )
      return;
    if (performance.now() > end) throw new Error('dockerd did not come back within 60 s');
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the engine dies in the middle of a switch (dockerd killed -9, started again)', () => {
  const id = randomUUID().slice(0, 8);
  const names = { network: `ota-test-net-${id}`, volume: `ota-test-data-${id}` };
  const docker = new Docker();

  afterAll(async () => {
    await engineUp(docker).catch(() => undefined);
    await cleanupManaged(docker, names);
  });

  it.skipIf(!engineProcess)(
    `ends with exactly one healthy app of the new version${SKIP}`,
    async () => {
      await Promise.all([buildFixture('1.0.0', 'healthy'), buildFixture('1.1.0', 'healthy')]);
      const engine = engineProcess as { pid: number; argv: string[] };
      const stateDir = tempDir();
      let killed = false;
      const first = await makeDeployer(stateDir, names, {
        beforeStep: (p: HookPoint) => {
          if (!killed && p.action === 'await-healthy' && p.version === '1.1.0') {
            killed = true;
            process.kill(engine.pid, 'SIGKILL');
          }
        },
      });
      expect(await first.deployer.switchTo(target('1.0.0'))).toMatchObject({
        outcome: 'succeeded',
      });
      // The switch meets a dead engine: it may fail (the engine's trouble, not the release's) or
      // throw; either way the change stays recorded.
      await first.deployer.switchTo(target('1.1.0')).catch(() => undefined);
      expect(killed).toBe(true);
      await first.state.close();

      const [cmd, ...args] = engine.argv as [string, ...string[]];
      spawn(cmd, args, { detached: true, stdio: 'ignore' }).unref();
      await engineUp(docker);

      const second = await makeDeployer(stateDir, names);
      const settled = await second.deployer.repair();
      const all = await second.runtime.list();
      const running = all.filter((c) => c.state === 'running');
      expect(
        running.map((c) => c.version),
        JSON.stringify(all),
      ).toEqual([settled]);
      expect(settled).toBe('1.1.0');
      expect((await second.runtime.inspect(running[0]?.id as string))?.health).toBe('healthy');
      expect(await second.state.unfinished()).toBeUndefined();
      expect((await second.state.failedVersions()).has('1.1.0')).toBe(false);
      await second.state.close();
    },
  );
});

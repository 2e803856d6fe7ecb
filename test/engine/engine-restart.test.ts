import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { openSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import type { HookPoint } from '../../agent/deploy/step-executor.js';
import { buildFixture, cleanupManaged, makeDeployer, target } from '../helpers/deploy-fixture.js';
import { tempDir } from '../helpers/temp-dir.js';

/** The running dockerd: its pid, binary and the exact command line to start it again. */
function dockerd(): { pid: number; exe: string; argv: string[] } | undefined {
  try {
    const pid = Number(execFileSync('pgrep', ['-xo', 'dockerd']).toString().trim());
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const exe = readlinkSync(`/proc/${pid}/exe`);
    return pid > 0 && argv.length > 0 ? { pid, exe, argv } : undefined;
  } catch {
    return undefined;
  }
}

function flag(argv: readonly string[], names: readonly string[]): string | undefined {
  const at = argv.findIndex((a) => names.includes(a));
  const inline = argv.find((a) => names.some((n) => a.startsWith(`${n}=`)));
  return inline?.slice(inline.indexOf('=') + 1) ?? (at >= 0 ? argv[at + 1] : undefined);
}
const pidFile = (argv: readonly string[]) =>
  flag(argv, ['--pidfile', '-p']) ?? '/var/run/docker.pid';
const execRoot = (argv: readonly string[]) => flag(argv, ['--exec-root']) ?? '/var/run/docker';

/** dockerd refuses to start while the process its pid file names is still alive. */
async function gone(pid: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const stat = (() => {
      try {
        return readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        return undefined;
      }
    })();
    if (stat === undefined || / Z /.test(stat)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`dockerd ${pid} did not exit within 30 s of SIGKILL`);
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
      const engine = engineProcess as { pid: number; exe: string; argv: string[] };
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

      await gone(engine.pid);
      // A killed process can stay a zombie here (nothing reaps it), and dockerd refuses to
      // start (or waits for its containerd) while the pids in their pid files exist: both are
      // dead (containerd dies with dockerd), so the files go.
      rmSync(pidFile(engine.argv), { force: true });
      rmSync(`${execRoot(engine.argv)}/containerd/containerd.pid`, { force: true });
      const log = openSync('/tmp/ota-dockerd.log', 'a');
      const restarted = spawn(engine.exe, engine.argv.slice(1), {
        detached: true,
        stdio: ['ignore', log, log],
      });
      restarted.on('error', (err) => console.error('could not start dockerd again', err));
      restarted.unref();
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
      // Its check passes now (run inside it, as the gate does; Docker's own status may lag).
      expect(await second.runtime.probe(running[0]?.id as string)).toBe(true);
      expect(await second.state.unfinished()).toBeUndefined();
      expect((await second.state.failedVersions()).has('1.1.0')).toBe(false);
      await second.state.close();
    },
  );
});

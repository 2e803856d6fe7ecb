import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../agent/control/control-api.js';
import {
  ARM64_NODE_IMAGE,
  architectureOf,
  buildArm64,
  NO_ARM64_NODE,
} from '../helpers/arm64-images.js';
import { docker, waitForHealth } from '../helpers/docker-cli.js';
import { GitHttpServer } from '../helpers/git-http-server.js';
import { TestRepo } from '../helpers/git-repo.js';
import { tempDirForSuite } from '../helpers/temp-dir.js';

// The weather app and the agent as a Pi runs them: the project's real Dockerfiles built for
// linux/arm64 from a real arm64 Node 20, run under qemu. Slow (scripts/test-arm64.sh).
const id = randomUUID().slice(0, 8);
const APP_REF = `ota-test-arm64/app:${id}`;
const AGENT_REF = `ota-test-arm64/agent:${id}`;
const APP = `ota-arm64-app-${id}`;
const AGENT = `ota-arm64-agent-${id}`;
const made = {
  containers: [APP, AGENT],
  // The state volume is the test's; the agent makes its app network and volume at start-up.
  volumes: [`ota-arm64-state-${id}`, `ota-arm64-data-${id}`],
  networks: [`ota-arm64-net-${id}`],
};

describe.skipIf(!ARM64_NODE_IMAGE)(
  `the real images on linux/arm64, emulated${NO_ARM64_NODE}`,
  () => {
    const dir = tempDirForSuite('ota-arm64-');

    beforeAll(async () => {
      // The agent's build reuses the app build's `npm ci` layer. Times go to the log, not
      // into an assertion: bench/arm64-build.ts is the measurement.
      const app = await buildArm64('Dockerfile.app', APP_REF, {
        version: '1.0.0',
        revision: 'arm64-test',
      });
      const agent = await buildArm64('Dockerfile.agent', AGENT_REF, {
        version: '0.0.0-test',
        revision: 'x',
      });
      console.log(
        `arm64 builds under qemu: app ${(app.ms / 1000).toFixed(0)} s, agent ${(agent.ms / 1000).toFixed(0)} s`,
      );
    });

    afterAll(async () => {
      for (const c of made.containers) await docker(['rm', '-f', c]).catch(() => undefined);
      for (const v of made.volumes) await docker(['volume', 'rm', v]).catch(() => undefined);
      for (const n of made.networks) await docker(['network', 'rm', n]).catch(() => undefined);
      await docker(['rmi', APP_REF, AGENT_REF]).catch(() => undefined);
    });

    it('builds the weather app for arm64, and it turns healthy emulated', async () => {
      expect(await architectureOf(APP_REF)).toBe('linux/arm64');
      await docker([
        'run',
        '-d',
        '--platform',
        'linux/arm64',
        '--name',
        APP,
        '--label',
        'ota-test=arm64',
        // The image's HEALTHCHECK gives its check 3 s, ample for node on a Pi; under qemu-user
        // on x86 starting node alone takes longer, and every check timed out. The check itself
        // is unchanged.
        '--health-timeout',
        '60s',
        '-e',
        'WEATHER_INTERVAL_MS=2000',
        APP_REF,
      ]);
      expect(await docker(['exec', APP, 'uname', '-m'])).toBe('aarch64');
      // The HEALTHCHECK's 60 s start period is the app's own; emulated node starts slowly.
      await waitForHealth(APP, 'healthy', 300_000);
      const version = await docker(['exec', APP, 'node', '-p', 'process.env.WEATHER_APP_VERSION']);
      expect(version).toBe('1.0.0');
    });

    it('builds the agent for arm64; emulated, it polls a git server and answers ota status', async () => {
      expect(await architectureOf(AGENT_REF)).toBe('linux/arm64');
      const server = new GitHttpServer({ root: join(dir, 'srv') });
      await server.start();
      try {
        const repo = await TestRepo.create(dir, join(dir, 'srv'), 'weather');
        // A pre-release off the device's channel: the poll sees it and deploys nothing.
        await repo.tag('v1.0.0-beta.1');
        // Host network: the git server listens on this machine's loopback only.
        await docker([
          'run',
          '-d',
          '--platform',
          'linux/arm64',
          '--name',
          AGENT,
          '--label',
          'ota-test=arm64',
          '--network',
          'host',
          '-v',
          '/var/run/docker.sock:/var/run/docker.sock',
          '-v',
          `ota-arm64-state-${id}:/var/lib/ota`,
          '-e',
          `OTA_REPO_URL=${server.url('weather')}`,
          '-e',
          'OTA_POLL_INTERVAL=5s',
          '-e',
          'OTA_POLL_JITTER_PERCENT=0',
          '-e',
          `OTA_APP_NETWORK=ota-arm64-net-${id}`,
          '-e',
          `OTA_APP_VOLUME=ota-arm64-data-${id}`,
          AGENT_REF,
        ]);
        expect(await docker(['exec', AGENT, 'uname', '-m'])).toBe('aarch64');
        const status = await pollUntil(300_000, async () => {
          const s = JSON.parse(await docker(['exec', AGENT, 'ota', 'status', '--json']));
          return (s as StatusReport).lastPoll ? (s as StatusReport) : undefined;
        });
        expect(status.lastPoll?.error).toBeUndefined();
        expect(status.lastPoll?.notDeployed).toContainEqual({
          version: '1.0.0-beta.1',
          reason: 'pre-release not on channel stable',
        });
        expect(status.running).toBeUndefined();
        const text = await docker(['exec', AGENT, 'ota', 'status']);
        expect(text).toMatch(/^device +pi-/m);
      } finally {
        await server.stop();
      }
    });
  },
);

async function pollUntil<T>(timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const value = await probe().catch((err: unknown) => {
      last = err;
      return undefined;
    });
    if (value !== undefined) return value;
    if (performance.now() > deadline) {
      const logs = await docker(['logs', '--tail', '30', AGENT]).catch(() => '');
      throw new Error(`the arm64 agent did not report a poll: ${last}\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

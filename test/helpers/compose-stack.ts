import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { StatusReport } from '../../agent/control/control-api.js';
import type { Deployment } from '../../agent/state/agent-state.js';
import { docker, REPO_ROOT } from './docker-cli.js';
import { GitHttpServer } from './git-http-server.js';
import { TestRepo } from './git-repo.js';

const run = promisify(execFile);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TOKEN = 'ghp_E2ETOKEN_abcdef0123456789';

export type Files = { read: (p: string) => string; write: (p: string, t: string) => void };

/**
 * The real compose.yaml run as on a device (its own project, state volume, app network and
 * data volume), its agent following a release repository served by git http-backend on
 * loopback: the compose end-to-end suites' common ground.
 */
export class ComposeStack {
  readonly id = randomUUID().slice(0, 8);
  readonly agent = `ota-e2e-agent-${this.id}`;
  readonly network = `ota-e2e-net-${this.id}`;
  readonly volume = `ota-e2e-data-${this.id}`;
  readonly stateVolume = `ota-e2e-state-${this.id}`;
  readonly project = `ota-e2e-${this.id}`;
  server!: GitHttpServer;
  repo!: TestRepo;
  private args: string[] = [];
  private readonly command = (process.env.OTA_COMPOSE || 'docker-compose').split(' ');

  constructor(private readonly dir: string) {}

  /** Serves a repository holding `files` of this project (an app repository, or the whole). */
  async serve(files: (repo: TestRepo) => void): Promise<void> {
    this.server = new GitHttpServer({ root: join(this.dir, 'srv'), token: TOKEN });
    await this.server.start();
    this.repo = await TestRepo.create(this.dir, join(this.dir, 'srv'), 'weather');
    files(this.repo);
  }

  /** Writes the env file and an override (host network for the loopback git server), then `up`. */
  async up(env: Record<string, string>, override = ''): Promise<void> {
    const all = {
      OTA_REPO_URL: this.server.url('weather'),
      OTA_REPO_TOKEN: TOKEN,
      OTA_POLL_INTERVAL: '5s',
      OTA_POLL_JITTER_PERCENT: '0',
      OTA_PLATFORM: 'linux/amd64',
      OTA_BUILD_ARGS: `NODE_IMAGE=${process.env.OTA_NODE_IMAGE},NODE_BUILD_IMAGE=${process.env.OTA_NODE_BUILD_IMAGE}`,
      OTA_AGENT_BASE_IMAGE: process.env.OTA_NODE_BUILD_IMAGE ?? '',
      OTA_NODE_BUILD_IMAGE: process.env.OTA_NODE_BUILD_IMAGE ?? '',
      OTA_MIN_FREE_MB: '200',
      OTA_APP_NETWORK: this.network,
      OTA_APP_VOLUME: this.volume,
      OTA_DEVICE_NAME: 'e2e',
      ...env,
    };
    writeFileSync(
      join(this.dir, 'env'),
      Object.entries(all)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    );
    writeFileSync(
      join(this.dir, 'override.yml'),
      `services:\n  agent:\n    container_name: ${this.agent}\n    network_mode: host\n${override}volumes:\n  agent-state:\n    name: ${this.stateVolume}\n`,
    );
    this.args = ['-f', join(REPO_ROOT, 'compose.yaml'), '-f', join(this.dir, 'override.yml')];
    this.args.push('-p', this.project, '--env-file', join(this.dir, 'env'));
    await this.compose('up', '-d', '--build', 'agent');
  }

  async compose(...args: string[]): Promise<string> {
    const [cmd, ...pre] = this.command;
    const { stdout } = await run(cmd as string, [...pre, ...this.args, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 900_000,
    });
    return stdout;
  }

  ota(...args: string[]): Promise<string> {
    return docker(['exec', this.agent, 'ota', ...args]);
  }
  async status(): Promise<StatusReport> {
    return JSON.parse(await this.ota('status', '--json')) as StatusReport;
  }
  async history(): Promise<Deployment[]> {
    return JSON.parse(await this.ota('history', '50', '--json')) as Deployment[];
  }

  /** Polls `probe` every second until it returns a value; the agent's log in the error. */
  async until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>) {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline) {
        const logs = await docker(['logs', '--tail', '40', this.agent]).catch(() => '');
        throw new Error(`timed out waiting for ${what}; last error: ${last}\nagent logs:\n${logs}`);
      }
      await sleep(1_000);
    }
  }

  /** A build on this machine takes 40 s to 3 min (npm ci in the image): generous by default. */
  runningIs(version: string, timeoutMs = 900_000) {
    return this.until(`${version} running and healthy`, timeoutMs, async () => {
      const s = await this.status();
      return s.running?.version === version && s.running.health === 'healthy' ? s : undefined;
    });
  }

  /** The app containers on the stack's network: "name state" lines. */
  async appContainers(): Promise<string[]> {
    const out = await docker([
      'ps',
      '-a',
      '--filter',
      `network=${this.network}`,
      '--format',
      '{{.Names}} {{.State}}',
    ]);
    return out.split('\n').filter(Boolean);
  }

  /**
   * A release: a commit with `change` applied, tagged and pushed. A broken release's change is
   * reverted on the branch right after its tag, so later releases are sound again.
   */
  async release(tag: string, change?: (files: Files) => void): Promise<void> {
    const files: Files = {
      read: (p) => readFileSync(join(this.repo.work, p), 'utf8'),
      write: (p, t) => writeFileSync(join(this.repo.work, p), t),
    };
    files.write('app/release.txt', `${tag}\n`);
    change?.(files);
    await this.repo.commit(`release ${tag}`);
    await this.repo.tag(tag);
    if (change) await this.repo.git('revert', '--no-edit', 'HEAD');
  }

  /** Everything the stack made: compose's project, the app containers, network and volumes. */
  async down(appVersions: readonly string[]): Promise<void> {
    await this.compose('down', '-v').catch(() => undefined);
    for (const line of await this.appContainers().catch(() => [])) {
      await docker(['rm', '-f', line.split(' ')[0] as string]).catch(() => undefined);
    }
    await docker(['network', 'rm', this.network]).catch(() => undefined);
    await docker(['volume', 'rm', '-f', this.volume, this.stateVolume]).catch(() => undefined);
    for (const version of appVersions) {
      await docker(['rmi', `edge-ota/app:${version}`]).catch(() => undefined);
    }
    await this.server?.stop();
  }
}

import { join } from 'node:path';
import Docker from 'dockerode';
import knex from 'knex';
import type { AppRunSpec } from '../../agent/deploy/container-runtime.js';
import { Deployer, type DeployerOptions } from '../../agent/deploy/deployer.js';
import { DockerContainerRuntime } from '../../agent/deploy/docker-runtime.js';
import type { TargetImage } from '../../agent/deploy/plan.js';
import { LABEL } from '../../agent/labels.js';
import { AgentState } from '../../agent/state/agent-state.js';
import { captureLog } from './capture-log.js';
import { docker as dockerCli, REPO_ROOT } from './docker-cli.js';

export const FIXTURE_REPO = 'ota-test/fixture';
export type FixtureMode = 'healthy' | 'never' | 'crash';

/** Builds a tiny fixture app image (see test/fixtures/app-fixture) for a version and mode. */
export async function buildFixture(version: string, mode: FixtureMode): Promise<string> {
  const ref = `${FIXTURE_REPO}:${version}`;
  await dockerCli([
    'build',
    '-q',
    '--build-arg',
    `NODE_IMAGE=${process.env.OTA_NODE_IMAGE ?? 'node:20-bookworm-slim'}`,
    '--build-arg',
    `MODE=${mode}`,
    '--build-arg',
    `VERSION=${version}`,
    '--label',
    'ota-test=deploy',
    '-t',
    ref,
    join(REPO_ROOT, 'test/fixtures/app-fixture'),
  ]);
  return ref;
}

export const target = (version: string, image = `${FIXTURE_REPO}:${version}`): TargetImage => ({
  version,
  commit: `commit-${version}`,
  image,
});

/** The agent's real deployer on the real engine, with its own state file and names. */
export async function makeDeployer(
  stateDir: string,
  names: { network: string; volume: string },
  overrides: Partial<DeployerOptions> = {},
) {
  const { log, events } = captureLog();
  const docker = new Docker();
  const runtime = new DockerContainerRuntime(docker, names.network);
  const state = new AgentState(knex(AgentState.knexConfig(join(stateDir, 'agent.db'))));
  await state.migrate();
  const spec = (t: TargetImage): AppRunSpec => ({
    image: t.image,
    version: t.version,
    commit: t.commit,
    env: { WEATHER_DEVICE_ID: 'pi-test', WEATHER_APP_VERSION: t.version, CRASH_AFTER_MS: '3000' },
    dataVolume: names.volume,
    dataPath: '/data',
    network: names.network,
    restartPolicy: 'unless-stopped',
    logMaxSize: '1m',
    logMaxFiles: 1,
  });
  const deployer = new Deployer(
    runtime,
    state,
    {
      healthTimeoutMs: 20_000,
      watchMs: 0,
      stopTimeoutS: 5,
      pollMs: 100,
      spec,
      imageOf: async (version) => `${FIXTURE_REPO}:${version}`,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      ...overrides,
    },
    log,
  );
  return { deployer, runtime, state, events, docker, log };
}

/** Removes every app container of this instance (by its label), its network and its volume. */
export async function cleanupManaged(docker: Docker, names: { network: string; volume: string }) {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.instance}=${names.network}`] },
  });
  for (const c of containers) {
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => undefined);
  }
  await docker
    .getNetwork(names.network)
    .remove()
    .catch(() => undefined);
  await docker
    .getVolume(names.volume)
    .remove()
    .catch(() => undefined);
}

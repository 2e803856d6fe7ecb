import { join } from 'node:path';
import { Agent } from '../../agent/agent.js';
import type { DeployerOptions } from '../../agent/deploy/deployer.js';
import { DockerImageStore } from '../../agent/image/docker-image-store.js';
import { LABEL, MANAGED_BY } from '../../agent/labels.js';
import type { CentralReporter } from '../../agent/report/central-reporter.js';
import { StatusBoard } from '../../agent/status.js';
import { Updater } from '../../agent/updater.js';
import { type FixtureMode, makeDeployer } from './deploy-fixture.js';
import { docker, REPO_ROOT } from './docker-cli.js';
import { makeWatcher } from './release-fixture.js';

/** Fixture images labelled as the agent labels what it builds, so its image store finds them. */
export const AGENT_FIXTURE_REPO = 'ota-test/agent-fixture';

export async function buildAgentFixture(
  version: string,
  mode: FixtureMode,
  where: { readonly repository?: string; readonly testLabel?: string } = {},
): Promise<string> {
  const ref = `${where.repository ?? AGENT_FIXTURE_REPO}:${version}`;
  const labels = {
    [LABEL.managedBy]: MANAGED_BY,
    [LABEL.role]: 'app',
    [LABEL.version]: version,
    [LABEL.commit]: `commit-${version}`,
    'ota-test': where.testLabel ?? 'deploy',
  };
  await docker([
    'build',
    '-q',
    '--build-arg',
    `NODE_IMAGE=${process.env.OTA_NODE_IMAGE ?? 'node:20-bookworm-slim'}`,
    '--build-arg',
    `MODE=${mode}`,
    ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    '-t',
    ref,
    join(REPO_ROOT, 'test/fixtures/app-fixture'),
  ]);
  return ref;
}

export const agentTarget = (version: string) => ({
  version,
  tag: `v${version}`,
  commit: `commit-${version}`,
  signer: undefined,
});

/**
 * The agent service as main wires it (updater, deployer, image store, state, queue) on the real
 * engine. Its release source points at a loopback port where nothing listens: these tests hand
 * poll results to the agent themselves.
 */
export async function makeAgent(
  stateDir: string,
  names: { network: string; volume: string },
  overrides: Partial<DeployerOptions> = {},
  reporter?: CentralReporter,
) {
  const images: { store?: DockerImageStore } = {};
  const made = await makeDeployer(stateDir, names, {
    imageOf: async (version) => (await images.store?.find(version))?.ref,
    ...overrides,
  });
  const { source, lines } = makeWatcher({
    url: 'http://127.0.0.1:9/unused.git',
    stateDir: join(stateDir, 'release'),
    retries: 0,
    timeoutMs: 2_000,
  });
  images.store = new DockerImageStore(
    made.docker,
    {
      platform: 'linux/amd64',
      repository: '',
      localRepository: AGENT_FIXTURE_REPO,
      buildArgs: {},
      minFreeBytes: 0,
    },
    made.log,
  );
  const board = new StatusBoard();
  const updater = new Updater(
    source,
    images.store,
    made.deployer,
    made.state,
    board,
    { imageSource: 'build', keepImages: 3, repoUrl: 'http://127.0.0.1:9/unused.git', stateDir },
    made.log,
  );
  const agent = new Agent(
    'pi-test',
    'stable',
    updater,
    made.deployer,
    images.store,
    made.state,
    board,
    made.log,
    reporter,
  );
  return { ...made, agent, updater, images: images.store, sourceLog: lines };
}

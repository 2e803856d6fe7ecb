import { join } from 'node:path';
import type Docker from 'dockerode';
import { ActionRunner, type ActionRunnerOptions } from '../../agent/actions/action-runner.js';
import { collectDiagnostics } from '../../agent/actions/diagnostics.js';
import { Agent } from '../../agent/agent.js';
import type { AppRunSpec } from '../../agent/deploy/container-runtime.js';
import type { DeployerOptions } from '../../agent/deploy/deployer.js';
import type { TargetImage } from '../../agent/deploy/plan.js';
import { DockerImageStore } from '../../agent/image/docker-image-store.js';
import { createAgentLogger } from '../../agent/log.js';
import { LogRing } from '../../agent/log-ring.js';
import { PollLoop } from '../../agent/release/poll-loop.js';
import type { CentralReporter } from '../../agent/report/central-reporter.js';
import { StatusBoard } from '../../agent/status.js';
import { Updater } from '../../agent/updater.js';
import { buildAgentFixture } from './agent-fixture.js';
import type { FixtureMode } from './deploy-fixture.js';
import { makeDeployer } from './deploy-fixture.js';
import { makeWatcher } from './release-fixture.js';

/** A fixture app image labelled as the agent labels its own, in a repository of this run. */
export const buildLabelledFixture = (repository: string, version: string, mode: FixtureMode) =>
  buildAgentFixture(version, mode, { repository, testLabel: 'remote-actions' });

/**
 * The image store of a test agent: builder-stage images are the engine's, shared with whatever
 * else runs there (an agent's start-up prunes them); a test must leave them alone.
 */
class OwnImages extends DockerImageStore {
  override async pruneBuildStages(): Promise<number> {
    return 0;
  }
}

export interface ActionAgentSetup {
  readonly stateDir: string;
  readonly names: { network: string; volume: string };
  /** The repository of the fixture images (buildLabelledFixture). */
  readonly repository: string;
  readonly repoUrl: string;
  readonly token: string;
  readonly deviceId: string;
  readonly groups: readonly string[];
  readonly reporter: CentralReporter;
  /** Extra environment of the app containers. */
  readonly appEnv?: Record<string, string>;
  readonly beforePoint?: ActionRunnerOptions['beforePoint'];
  readonly deployer?: Partial<DeployerOptions>;
}

/**
 * A whole agent as main.ts wires it, on the real engine, polling a real git server for its
 * rollout policy, reporting to a real central database, its log kept in a LogRing (and
 * captured) as on a device. Its poll loop polls at start and then only on `agent.check()`.
 */
export async function makeActionAgent(setup: ActionAgentSetup) {
  // Larger than a bundle takes (its last 200), so tests can read the order of events.
  const ring = new LogRing(5_000, null);
  const log = createAgentLogger('debug', ring);
  const images: { store?: DockerImageStore } = {};
  const made = await makeDeployer(setup.stateDir, setup.names, {
    imageOf: async (version) => (await images.store?.find(version))?.ref,
    spec: (t: TargetImage): AppRunSpec => ({
      image: t.image,
      version: t.version,
      commit: t.commit,
      env: { WEATHER_DEVICE_ID: setup.deviceId, ...setup.appEnv },
      dataVolume: setup.names.volume,
      dataPath: '/data',
      network: setup.names.network,
      restartPolicy: 'unless-stopped',
      logMaxSize: '1m',
      logMaxFiles: 1,
    }),
    ...setup.deployer,
  });
  const store = new OwnImages(
    made.docker as Docker,
    {
      platform: 'linux/amd64',
      repository: '',
      localRepository: setup.repository,
      buildArgs: {},
      minFreeBytes: 0,
    },
    log,
  );
  images.store = store;
  const { watcher, source } = makeWatcher(
    { url: setup.repoUrl, stateDir: join(setup.stateDir, 'release'), token: setup.token },
    { device: { id: setup.deviceId, groups: setup.groups } },
  );
  const board = new StatusBoard();
  const updater = new Updater(
    source,
    store,
    made.deployer,
    made.state,
    board,
    { imageSource: 'build', keepImages: 3, repoUrl: setup.repoUrl, stateDir: setup.stateDir },
    log,
  );
  const runner: ActionRunner = new ActionRunner(
    made.state.actions,
    {
      running: () => made.deployer.running(),
      checkHealth: (id, version) => made.deployer.checkHealth(id, version),
      restart: (id, timeoutS) => made.runtime.restart(id, timeoutS),
    },
    {
      stopTimeoutS: 5,
      beforePoint: setup.beforePoint,
      diagnostics: () =>
        collectDiagnostics({
          status: () => agent.status(),
          agentLog: () => ring.tail(),
          appLog: async (tail) => {
            const app = await made.deployer.running();
            return app ? made.runtime.logs(app.id, tail) : [];
          },
          stateDir: setup.stateDir,
          engineDisk: () => store.diskUsage(),
          secrets: () => [setup.token],
        }),
    },
    log.child({ module: 'actions' }),
  );
  const agent: Agent = new Agent(
    setup.deviceId,
    'stable',
    updater,
    made.deployer,
    store,
    made.state,
    board,
    log,
    setup.reporter,
    setup.groups,
    runner,
  );
  const start = () =>
    agent.start(
      (a) =>
        new PollLoop(
          watcher,
          {
            intervalMs: 3_600_000,
            jitter: 0,
            random: () => 0,
            device: () => a.device(),
            onResult: (result) => a.onPoll(result),
          },
          log.child({ module: 'poll' }),
        ),
    );
  const events = () => ring.tail().map((l) => JSON.parse(l) as Record<string, unknown>);
  return { ...made, agent, start, log, ring, agentEvents: events, images: store };
}

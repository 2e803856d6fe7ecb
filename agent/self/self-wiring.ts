import type { Server } from 'node:http';
import type Docker from 'dockerode';
import type { AgentConfig } from '../config.js';
import { DockerImageStore, type DockerImageStoreOptions } from '../image/docker-image-store.js';
import type { AgentLogger } from '../log.js';
import { gitClient } from '../release/git-client.js';
import type { ReleaseSource } from '../release/release-source.js';
import type { AgentState } from '../state/agent-state.js';
import { DockerAgentContainers } from './docker-agent-containers.js';
import { takeCharge } from './leadership.js';
import { ownSocketPath } from './own-container.js';
import { runningInputs } from './running-inputs.js';
import { type SelfReport, serveSelf } from './self-socket.js';
import { type SelfUpdateOptions, SelfUpdater } from './self-updater.js';
import { pauseHook } from './test-pause.js';

/**
 * Self-update, wired (main.ts calls this; nothing here runs outside a container): this agent's
 * container, its own socket, the lease it must hold before it touches the app, and the updater
 * that hands over to a release's agent.
 */
export async function wireSelf(
  docker: Docker,
  config: AgentConfig,
  state: AgentState,
  imageOptions: DockerImageStoreOptions,
  source: ReleaseSource,
  log: AgentLogger,
) {
  const containers = new DockerAgentContainers(docker, config.stateDir);
  const me = await containers.self();
  if (!me) {
    log.info('not running in a container: the agent does not update itself');
    return undefined;
  }
  const running = await runningInputs(
    me.inputs,
    config.selfUpdate.checkoutGitDir,
    gitClient(config.gitTimeoutMs),
  );
  const images = new DockerImageStore(
    docker,
    {
      ...imageOptions,
      localRepository: 'edge-ota/agent',
      dockerfile: 'Dockerfile.agent',
      role: 'agent',
      // The agent's base may differ from the app's (compose builds the first agent on it).
      buildArgs: {
        ...imageOptions.buildArgs,
        ...(config.selfUpdate.agentBaseImage && { NODE_IMAGE: config.selfUpdate.agentBaseImage }),
      },
    },
    log.child({ module: 'self' }),
  );
  const selfLog = log.child({ module: 'self' });
  const pause = pauseHook(config.selfUpdate.testPauseFile, selfLog);
  let report: SelfReport = {
    container: me.id,
    name: me.name,
    version: me.version,
    inputs: running.inputs,
    role: 'standby',
    ready: false,
  };
  const server: Server = serveSelf(ownSocketPath(config.stateDir, me.id), () => report, selfLog);
  selfLog.info({ version: me.version, ...running, container: me.name }, 'agent identity');
  // A new agent must see this one's state (the lease, the record): only through a mount.
  const shared = containers.stateShared();
  if (config.selfUpdate.enabled && !shared) {
    selfLog.warn(
      { stateDir: config.stateDir },
      `${config.stateDir} is not on a named volume or bind mount: this agent does not update itself (tags update the app only)`,
    );
  }
  return {
    server,
    /** Returns once this agent is in charge of the device (agent/self/leadership.ts). */
    takeCharge: (firstPoll: () => Promise<string | undefined>) =>
      takeCharge({
        me,
        containers,
        state,
        images,
        firstPoll,
        report: (change) => {
          report = { ...report, ...change };
        },
        pause,
        log: selfLog,
      }),
    updater: (options: Pick<SelfUpdateOptions, 'release' | 'activity'>) =>
      new SelfUpdater(
        me,
        running,
        containers,
        images,
        source,
        state,
        {
          ...options,
          release: async () => {
            report = { ...report, role: 'handed-over' };
            await options.release();
          },
          enabled: config.selfUpdate.enabled && shared,
          timeoutMs: config.selfUpdate.handoverTimeoutMs,
          stateDir: config.stateDir,
          repoUrl: config.repoUrl,
          pause,
        },
        selfLog,
      ),
  };
}

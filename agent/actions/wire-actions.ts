import type { AgentConfig } from '../config.js';
import type { StatusReport } from '../control/control-api.js';
import type { Deployer } from '../deploy/deployer.js';
import type { DockerContainerRuntime } from '../deploy/docker-runtime.js';
import type { DockerImageStore } from '../image/docker-image-store.js';
import type { AgentLogger } from '../log.js';
import type { LogRing } from '../log-ring.js';
import type { AgentState } from '../state/agent-state.js';
import { ActionRunner } from './action-runner.js';
import { collectDiagnostics } from './diagnostics.js';

/** The remote-action runner, wired to the deployer, the engine and the diagnostics sources (main.ts). */
export function wireActions(deps: {
  readonly state: AgentState;
  readonly deployer: Deployer;
  readonly runtime: DockerContainerRuntime;
  readonly images: DockerImageStore;
  readonly ring: LogRing;
  readonly config: AgentConfig;
  /** The central database password in use, also when it came from WEATHER_DB_PASSWORD_FILE. */
  readonly centralPassword: string | undefined;
  readonly status: () => Promise<StatusReport>;
  readonly log: AgentLogger;
}): ActionRunner {
  const { state, deployer, runtime, images, ring, config } = deps;
  return new ActionRunner(
    state.actions,
    {
      running: () => deployer.running(),
      checkHealth: (id, version) => deployer.checkHealth(id, version),
      restart: (id, timeoutS) => runtime.restart(id, timeoutS),
    },
    {
      stopTimeoutS: 10,
      diagnostics: (): Promise<string> =>
        collectDiagnostics({
          status: deps.status,
          agentLog: () => ring.tail(),
          appLog: async (tail) => {
            const app = await deployer.running();
            return app ? runtime.logs(app.id, tail) : [];
          },
          stateDir: config.stateDir,
          engineDisk: () => images.diskUsage(),
          secrets: () => [
            config.token(),
            config.registryAuth?.password,
            config.appEnv.WEATHER_DB_PASSWORD,
            deps.centralPassword,
          ],
        }),
    },
    deps.log,
  );
}

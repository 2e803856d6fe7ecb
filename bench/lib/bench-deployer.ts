// The agent's real Deployer on the real engine with the real weather app image, as
// agent/main.ts wires it (test/helpers/deploy-fixture.ts shape), with the bench's own state
// file, network and data volume.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import knex from 'knex';
import type {
  AppContainer,
  AppRunSpec,
  ContainerRuntime,
} from '../../agent/deploy/container-runtime.js';
import { Deployer } from '../../agent/deploy/deployer.js';
import { DockerContainerRuntime } from '../../agent/deploy/docker-runtime.js';
import type { TargetImage } from '../../agent/deploy/plan.js';
import type { HookPoint } from '../../agent/deploy/step-executor.js';
import type { ImageStore } from '../../agent/image/image-store.js';
import { LABEL } from '../../agent/labels.js';
import type { AgentLogger } from '../../agent/log.js';
import { AgentState } from '../../agent/state/agent-state.js';
import { cleanupManaged } from '../../test/helpers/deploy-fixture.js';

export const DEVICE_ID = 'pi-bench';
const OCI_TITLE = 'org.opencontainers.image.title';
export const INTERVAL_MS = 1000;

/** The app's settings for the bench: fixed device, one reading a second. */
export const appEnv = (version: string): Record<string, string> => ({
  WEATHER_DEVICE_ID: DEVICE_ID,
  WEATHER_APP_VERSION: version,
  WEATHER_INTERVAL_MS: String(INTERVAL_MS),
  WEATHER_LOG_LEVEL: 'warn',
});

/**
 * The real runtime, narrowed to the containers this bench created: DockerContainerRuntime
 * lists every agent-labelled app container on the engine, and the deployer stops or removes
 * what it lists, so without this a test or agent running on the same engine would be touched.
 */
class OwnContainers implements ContainerRuntime {
  readonly created = new Set<string>();
  constructor(private readonly real: DockerContainerRuntime) {}
  async list(): Promise<AppContainer[]> {
    return (await this.real.list()).filter((c) => this.created.has(c.id));
  }
  inspect = (id: string) => this.real.inspect(id);
  async create(spec: AppRunSpec): Promise<string> {
    const id = await this.real.create(spec);
    this.created.add(id);
    return id;
  }
  start = (id: string) => this.real.start(id);
  stop = (id: string, timeoutS: number) => this.real.stop(id, timeoutS);
  remove = (id: string) => this.real.remove(id);
  probe = (id: string) => this.real.probe(id);
  restart = (id: string, timeoutS: number) => this.real.restart(id, timeoutS);
  logs = (id: string, tail: number) => this.real.logs(id, tail);
  prepare = (spec: Pick<AppRunSpec, 'network' | 'dataVolume'>) => this.real.prepare(spec);
}

/**
 * Agent containers and agent-labelled app containers already on the engine. Any agent lists
 * every labelled app container engine-wide and stops or removes what it does not keep, so a
 * bench next to one would have its containers taken and would disturb the other's. Call it
 * only while the bench has no app container of its own.
 */
export async function othersOnEngine(): Promise<string[]> {
  const docker = new Docker();
  const found = await Promise.all(
    [`${LABEL.role}=app`, `${OCI_TITLE}=ota-agent`].map((label) =>
      docker.listContainers({ all: true, filters: { label: [label] } }),
    ),
  );
  return found.flat().map((c) => `${c.Names[0]?.replace(/^\//, '')} (${c.State})`);
}

export interface BenchDeployer {
  readonly deployer: Deployer;
  readonly runtime: ContainerRuntime;
  readonly volume: string;
  /** Called before each step of a plan (the deployer's beforeStep); set per measurement. */
  onStep: ((step: HookPoint) => void | Promise<void>) | undefined;
  /** Stops the running app gracefully, so its last readings are uploaded. */
  stopAll(): Promise<void>;
  /** Removes its containers, network, volume and state file. */
  close(): Promise<void>;
}

export async function benchDeployer(
  names: { network: string; volume: string },
  images: ImageStore,
  log: AgentLogger,
): Promise<BenchDeployer> {
  const docker = new Docker();
  const runtime = new OwnContainers(new DockerContainerRuntime(docker, names.network));
  const dir = mkdtempSync(join(tmpdir(), 'bench-rollback-state-'));
  const state = new AgentState(knex(AgentState.knexConfig(join(dir, 'agent.db'))));
  const spec = (t: TargetImage): AppRunSpec => ({
    image: t.image,
    version: t.version,
    commit: t.commit,
    env: appEnv(t.version),
    dataVolume: names.volume,
    dataPath: '/data',
    network: names.network,
    restartPolicy: 'unless-stopped',
    logMaxSize: '1m',
    logMaxFiles: 1,
  });
  let closed = false;
  const kit: BenchDeployer = {
    deployer: new Deployer(
      runtime,
      state,
      {
        healthTimeoutMs: 60_000,
        watchMs: 0,
        stopTimeoutS: 10,
        pollMs: 100,
        spec,
        imageOf: async (version) => (await images.find(version))?.ref,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        beforeStep: (step) => kit.onStep?.(step),
      },
      log,
    ),
    runtime,
    volume: names.volume,
    onStep: undefined,
    async stopAll() {
      for (const id of runtime.created) await runtime.stop(id, 10);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const id of runtime.created) await runtime.remove(id).catch(() => undefined);
      await cleanupManaged(docker, names);
      await state.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await state.migrate();
  return kit;
}

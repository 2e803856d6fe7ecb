import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { LABEL, managedFilter, managedLabels } from '../labels.js';
import type {
  AppContainer,
  AppRunSpec,
  ContainerRuntime,
  Health,
  RunState,
} from './container-runtime.js';
import { logLines } from './log-frames.js';
import { probeOnce } from './readiness-probe.js';

const isNotFound = (err: unknown) => (err as { statusCode?: number }).statusCode === 404;
const isNotModified = (err: unknown) => (err as { statusCode?: number }).statusCode === 304;

/** App containers on the Docker engine, through dockerode; only labelled objects are touched. */
export class DockerContainerRuntime implements ContainerRuntime {
  /** `instance` names this agent's app containers; another agent's are never listed or touched. */
  constructor(
    private readonly docker: Docker,
    private readonly instance: string,
  ) {}

  async list(): Promise<AppContainer[]> {
    const summaries = await this.docker.listContainers({
      all: true,
      filters: managedFilter('app', this.instance),
    });
    const found = await Promise.all(summaries.map((s) => this.inspect(s.Id)));
    return found.filter((c): c is AppContainer => c !== undefined);
  }

  async inspect(id: string): Promise<AppContainer | undefined> {
    try {
      const info = await this.docker.getContainer(id).inspect();
      const labels = info.Config.Labels ?? {};
      if (labels[LABEL.role] !== 'app' || labels[LABEL.instance] !== this.instance)
        return undefined;
      return {
        id: info.Id,
        name: info.Name.replace(/^\//, ''),
        version: labels[LABEL.version] ?? 'unknown',
        commit: labels[LABEL.commit] ?? '',
        image: info.Config.Image,
        state: info.State.Status as RunState,
        health: ((info.State as { Health?: { Status: string } }).Health?.Status ??
          'none') as Health,
        restartCount: info.RestartCount,
        exitCode: info.State.ExitCode,
        createdAt: info.Created,
        startedAt: info.State.StartedAt,
        deviceId: (info.Config.Env ?? [])
          .find((e) => e.startsWith('WEATHER_DEVICE_ID='))
          ?.slice('WEATHER_DEVICE_ID='.length),
      };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async create(spec: AppRunSpec): Promise<string> {
    const suffix = randomBytes(3).toString('hex');
    const container = await this.docker.createContainer({
      name: `weather-${spec.version.replace(/[^A-Za-z0-9_.-]/g, '_')}-${suffix}`,
      Image: spec.image,
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      Labels: managedLabels({
        [LABEL.role]: 'app',
        [LABEL.instance]: this.instance,
        [LABEL.version]: spec.version,
        [LABEL.commit]: spec.commit,
      }),
      HostConfig: {
        Binds: [`${spec.dataVolume}:${spec.dataPath}`],
        NetworkMode: spec.network,
        RestartPolicy: { Name: spec.restartPolicy },
        LogConfig: {
          Type: 'json-file',
          Config: { 'max-size': spec.logMaxSize, 'max-file': String(spec.logMaxFiles) },
        },
        Init: false,
      },
    });
    return container.id;
  }

  async start(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      if (!isNotModified(err)) throw err; // already running
    }
  }

  async stop(id: string, timeoutS: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: timeoutS });
    } catch (err) {
      if (!isNotModified(err) && !isNotFound(err)) throw err;
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async restart(id: string, timeoutS: number): Promise<void> {
    await this.docker.getContainer(id).restart({ t: timeoutS });
  }

  async logs(id: string, tail: number): Promise<string[]> {
    const raw = (await this.docker
      .getContainer(id)
      .logs({ stdout: true, stderr: true, tail, follow: false })) as unknown as Buffer;
    return logLines(Buffer.from(raw)).slice(-tail);
  }

  async probe(id: string): Promise<boolean> {
    try {
      return await probeOnce(this.docker, id);
    } catch (err) {
      if (isNotFound(err) || (err as { statusCode?: number }).statusCode === 409) return false;
      throw err;
    }
  }

  async prepare(spec: Pick<AppRunSpec, 'network' | 'dataVolume'>): Promise<void> {
    const networks = await this.docker.listNetworks({ filters: { name: [spec.network] } });
    if (!networks.some((n) => n.Name === spec.network)) {
      await this.docker.createNetwork({
        Name: spec.network,
        Driver: 'bridge',
        Labels: managedLabels({ [LABEL.role]: 'network' }),
      });
    }
    try {
      await this.docker.getVolume(spec.dataVolume).inspect();
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.docker.createVolume({
        Name: spec.dataVolume,
        Labels: managedLabels({ [LABEL.role]: 'data' }),
      });
    }
  }
}

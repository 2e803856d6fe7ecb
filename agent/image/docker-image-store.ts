import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { BuildError, ImageMismatchError, ImageRemoveError, PullError } from '../errors.js';
import { LABEL, MANAGED_BY, managedFilter, managedLabels, OCI } from '../labels.js';
import type { AgentLogger } from '../log.js';
import { isOurs, toAppImage } from './app-image.js';
import { keepStageCache } from './build-stages.js';
import { type DiskUsage, EngineDiskSpace } from './disk-space.js';
import { type BuildOptions, runBuild } from './engine-build.js';
import { messageOf, pullError, statusOf } from './engine-errors.js';
import type { AppImage, ImageStore, ProgressEvent, ReleaseToInstall } from './image-store.js';
import { follow } from './progress-stream.js';
import { tarOf } from './single-file-tar.js';

export interface DockerImageStoreOptions {
  /** The device's platform, os/arch[/variant], e.g. linux/arm64. */
  readonly platform: string;
  /** Registry repository for pull mode, e.g. 127.0.0.1:5000/weather (tag = version). */
  readonly repository: string;
  /** Where the agent tags its images; default edge-ota/app. */
  readonly localRepository?: string;
  /** Passed to every build (e.g. NODE_IMAGE); VERSION, REVISION and SOURCE are set per release. */
  readonly buildArgs: Readonly<Record<string, string>>;
  /** Path of the Dockerfile inside the build context; default Dockerfile.app. */
  readonly dockerfile?: string;
  /** What the images are: the app's (default) or the agent's own (self-update). */
  readonly role?: 'app' | 'agent';
  readonly registryAuth?: {
    readonly username: string;
    readonly password: string;
    readonly serveraddress: string;
  };
  /** build() and pull() refuse to start with less free space than this on the engine's storage. */
  readonly minFreeBytes: number;
  /**
   * Where to measure free space for the disk-space check (OTA_DISK_CHECK_PATH). By default the
   * engine says where it stores images (agent/image/storage-paths.ts: DockerRootDir on the
   * classic store, containerd's root on the containerd store); the agent runs in a container,
   * so that path is visible only if compose mounts it (read-only, at the same path). Without it
   * the check is skipped after one warning naming the paths checked.
   */
  readonly dataPath?: string;
}

/** ImageStore on a Docker engine: builds or pulls each version into <localRepository>:<version>. */
export class DockerImageStore implements ImageStore {
  private readonly localRepository: string;
  private readonly disk: EngineDiskSpace;
  private readonly role: 'app' | 'agent';

  constructor(
    private readonly docker: Docker,
    private readonly options: DockerImageStoreOptions,
    private readonly log: AgentLogger,
  ) {
    this.localRepository = options.localRepository ?? 'edge-ota/app';
    this.role = options.role ?? 'app';
    this.disk = new EngineDiskSpace(
      () => docker.info(),
      { minFreeBytes: options.minFreeBytes, path: options.dataPath },
      log,
    );
  }

  async find(version: string): Promise<AppImage | undefined> {
    const info = await this.inspect(this.ref(version));
    return info && isOurs(info.Config.Labels, this.role)
      ? toAppImage(info, this.ref(version))
      : undefined;
  }

  async list(): Promise<AppImage[]> {
    const summaries = await this.docker.listImages({ filters: managedFilter(this.role) });
    const images: AppImage[] = [];
    for (const summary of summaries) {
      // Only tagged ones: an untagged image of ours is a replaced build the engine cleans up.
      const ref = this.ref(summary.Labels?.[LABEL.version] ?? '');
      if (!summary.RepoTags?.includes(ref)) continue;
      const info = await this.inspect(summary.Id);
      if (info) images.push(toAppImage(info, ref));
    }
    return images.sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  }

  async build(
    release: ReleaseToInstall,
    contextTar: string,
    onProgress?: (e: ProgressEvent) => void,
  ): Promise<AppImage> {
    const { version, commit, source } = release;
    await this.disk.ensure(version);
    await access(contextTar).catch((err) => {
      throw new BuildError(version, `cannot read the build context ${contextTar}`, [], {
        cause: err,
      });
    });
    const ref = this.ref(version);
    const started = performance.now();
    this.log.info({ version, commit, platform: this.options.platform }, 'building image');
    await this.runBuild(version, createReadStream(contextTar), {
      t: ref,
      dockerfile: this.options.dockerfile ?? 'Dockerfile.app',
      buildargs: { ...this.options.buildArgs, VERSION: version, REVISION: commit, SOURCE: source },
      labels: this.labels(release),
      onProgress,
    });
    const image = await this.find(version);
    if (!image) throw new BuildError(version, `${ref} is missing after a successful build`, []);
    this.log.info(
      { version, id: image.id, ms: Math.round(performance.now() - started) },
      'image built',
    );
    return image;
  }

  pruneBuildStages(): Promise<number> {
    return keepStageCache(this.docker, this.log, this.stageCacheRepository());
  }

  /** Where the newest image of each builder stage is tagged: <localRepository>-build-cache. */
  stageCacheRepository(): string {
    return `${this.localRepository}-build-cache`;
  }

  async pull(release: ReleaseToInstall, onProgress?: (e: ProgressEvent) => void) {
    const { version, commit } = release;
    await this.disk.ensure(version);
    const remote = `${this.options.repository}:${version}`;
    const started = performance.now();
    this.log.info({ version, ref: remote, platform: this.options.platform }, 'pulling image');
    try {
      const stream = await this.docker.pull(remote, {
        platform: this.options.platform,
        ...(this.options.registryAuth && { authconfig: this.options.registryAuth }),
      });
      const failure = await follow(this.docker, stream, (e) => {
        if (e.status && !e.error) {
          const { current, total } = e.progressDetail ?? {};
          onProgress?.({ phase: 'pull', status: e.status, layer: e.id, current, total });
        }
      });
      if (failure) throw new Error(failure);
    } catch (err) {
      await this.untag(remote);
      const error = pullError(version, remote, err);
      this.log.error({ version, ref: remote, kind: error.kind, err }, 'pull failed');
      throw error;
    }

    try {
      const pulled = await this.inspect(remote);
      if (!pulled) throw new PullError('registry', version, remote, 'image missing after pull');
      const revision = pulled.Config.Labels?.[OCI.revision] ?? '';
      const [os, arch] = this.options.platform.split('/');
      if (revision !== commit) throw this.refuse(remote, version, 'revision', commit, revision);
      if (pulled.Os !== os || pulled.Architecture !== arch) {
        const actual = `${pulled.Os}/${pulled.Architecture}`;
        throw this.refuse(remote, version, 'architecture', `${os}/${arch}`, actual);
      }
      // Labels are part of the image config, so giving the pulled image the agent's labels
      // means a (no-op, local) build FROM it: nothing is pulled again.
      const dockerfile = `FROM ${pulled.Id}\n`;
      await this.runBuild(version, Readable.from([tarOf('Dockerfile', dockerfile)]), {
        t: this.ref(version),
        dockerfile: 'Dockerfile',
        buildargs: {},
        labels: this.labels(release),
      });
    } finally {
      // The store holds only labelled images: the registry's tag goes, the labelled one stays.
      await this.untag(remote);
    }
    const image = await this.find(version);
    if (!image) throw new PullError('registry', version, remote, 'labelled image missing');
    this.log.info(
      { version, id: image.id, ms: Math.round(performance.now() - started) },
      'image pulled',
    );
    return image;
  }

  async remove(version: string): Promise<void> {
    const ref = this.ref(version);
    const info = await this.inspect(ref);
    if (!info) return;
    if (!isOurs(info.Config.Labels, this.role)) {
      const why = `it does not carry ${LABEL.managedBy}=${MANAGED_BY}: not the agent's image`;
      throw new ImageRemoveError(version, ref, 'not-managed', why);
    }
    // Removing by tag, never forced: the engine refuses while a container uses the image.
    await this.docker
      .getImage(ref)
      .remove()
      .catch((err) => {
        if (statusOf(err) === 404) return;
        const inUse = statusOf(err) === 409;
        throw new ImageRemoveError(version, ref, inUse ? 'in-use' : 'engine', messageOf(err), {
          cause: err,
        });
      });
    this.log.info({ version, id: info.Id }, 'image removed');
  }

  async freeBytes(): Promise<number> {
    return (await this.disk.free()).free;
  }

  diskUsage(): Promise<DiskUsage> {
    return this.disk.usage();
  }

  private runBuild(version: string, context: NodeJS.ReadableStream, options: BuildOptions) {
    return runBuild(this.docker, this.log, this.options.platform, version, context, options);
  }

  private refuse(
    remote: string,
    version: string,
    field: 'revision' | 'architecture',
    expected: string,
    actual: string,
  ): ImageMismatchError {
    const error = new ImageMismatchError(version, field, expected, actual);
    this.log.error({ version, ref: remote, field, expected, actual }, error.message);
    return error;
  }

  private async untag(ref: string): Promise<void> {
    await this.docker
      .getImage(ref)
      .remove()
      .catch((err) => {
        if (statusOf(err) !== 404) this.log.warn({ err, ref }, 'could not untag pulled image');
      });
  }

  private async inspect(ref: string): Promise<Docker.ImageInspectInfo | undefined> {
    return this.docker
      .getImage(ref)
      .inspect()
      .catch((err) => {
        if (statusOf(err) === 404) return undefined;
        throw err;
      });
  }

  private ref(version: string): string {
    return `${this.localRepository}:${version}`;
  }

  private labels(release: ReleaseToInstall): Record<string, string> {
    return managedLabels({
      [LABEL.version]: release.version,
      [LABEL.commit]: release.commit,
      [LABEL.source]: release.source,
      [LABEL.role]: this.role,
      ...(release.inputs && { [LABEL.agentInputs]: release.inputs }),
    });
  }
}

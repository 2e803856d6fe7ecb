import { createReadStream } from 'node:fs';
import { access, statfs } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import {
  BuildError,
  DiskSpaceError,
  ImageMismatchError,
  ImageRemoveError,
  PullError,
  type PullFailure,
} from '../errors.js';
import { LABEL, MANAGED_BY, managedFilter, managedLabels, OCI } from '../labels.js';
import type { AgentLogger } from '../log.js';
import type { AppImage, ImageStore, ProgressEvent, ReleaseToInstall } from './image-store.js';

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
  readonly registryAuth?: {
    readonly username: string;
    readonly password: string;
    readonly serveraddress: string;
  };
  /** build() and pull() refuse to start with less free space than this on the engine's storage. */
  readonly minFreeBytes: number;
  /**
   * A path on the filesystem holding the engine's data, for the free-space check; default the
   * engine's DockerRootDir. The agent runs in a container with only the socket, so that path
   * exists there only if compose mounts it (read-only is enough, e.g.
   * `/var/lib/docker:/var/lib/docker:ro`). Without it the check is skipped after one warning.
   */
  readonly dataPath?: string;
}

/** One JSON object of the engine's build or pull progress stream. */
interface StreamEvent {
  stream?: string;
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

const OUTPUT_TAIL = 25;

/** ImageStore on a Docker engine: builds or pulls each version into <localRepository>:<version>. */
export class DockerImageStore implements ImageStore {
  private readonly localRepository: string;
  private dataPath: string | undefined;
  private warnedNoStatfs = false;

  constructor(
    private readonly docker: Docker,
    private readonly options: DockerImageStoreOptions,
    private readonly log: AgentLogger,
  ) {
    this.localRepository = options.localRepository ?? 'edge-ota/app';
    this.dataPath = options.dataPath;
  }

  async find(version: string): Promise<AppImage | undefined> {
    const info = await this.inspect(this.ref(version));
    return info && isOurs(info.Config.Labels) ? toAppImage(info, this.ref(version)) : undefined;
  }

  async list(): Promise<AppImage[]> {
    const summaries = await this.docker.listImages({ filters: managedFilter('app') });
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
    await this.ensureSpace(version);
    await access(contextTar).catch((err) => {
      throw new BuildError(version, `cannot read the build context ${contextTar}`, [], {
        cause: err,
      });
    });
    const ref = this.ref(version);
    const started = Date.now();
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
    this.log.info({ version, id: image.id, ms: Date.now() - started }, 'image built');
    return image;
  }

  async pull(release: ReleaseToInstall, onProgress?: (e: ProgressEvent) => void) {
    const { version, commit } = release;
    await this.ensureSpace(version);
    const remote = `${this.options.repository}:${version}`;
    const started = Date.now();
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
    this.log.info({ version, id: image.id, ms: Date.now() - started }, 'image pulled');
    return image;
  }

  async remove(version: string): Promise<void> {
    const ref = this.ref(version);
    const info = await this.inspect(ref);
    if (!info) return;
    if (!isOurs(info.Config.Labels)) {
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
    return (await this.space()).free;
  }

  private async space(): Promise<{ free: number; path: string }> {
    this.dataPath ??= (await this.docker.info()).DockerRootDir as string;
    const path = this.dataPath;
    try {
      const fs = await statfs(path);
      return { free: fs.bavail * fs.bsize, path };
    } catch (err) {
      if (!this.warnedNoStatfs) {
        this.warnedNoStatfs = true;
        this.log.warn(
          { err, path },
          "cannot read free space of the engine's storage (mount it into the agent to enable the check): disk-space check skipped",
        );
      }
      return { free: Number.POSITIVE_INFINITY, path };
    }
  }

  private async ensureSpace(version: string): Promise<void> {
    const { free, path } = await this.space();
    const required = this.options.minFreeBytes;
    if (free >= required) return;
    const error = new DiskSpaceError(free, required, path);
    this.log.error({ version, free, required, path }, error.message);
    throw error;
  }

  /** Runs one build to its end; an error in the stream rejects with the output's last lines. */
  private async runBuild(
    version: string,
    context: NodeJS.ReadableStream,
    options: {
      t: string;
      dockerfile: string;
      buildargs: Record<string, string>;
      labels: Record<string, string>;
      onProgress?: ((e: ProgressEvent) => void) | undefined;
    },
  ): Promise<void> {
    const { onProgress, ...buildOptions } = options;
    const tail: string[] = [];
    let failure: string | undefined;
    let lastStepImage: string | undefined;
    try {
      const stream = await this.docker.buildImage(context, {
        ...buildOptions,
        platform: this.options.platform,
        rm: true,
        forcerm: true,
      });
      failure = await follow(this.docker, stream, (e) => {
        for (const line of e.stream?.split('\n') ?? []) {
          if (!line.trim()) continue;
          tail.push(line);
          if (tail.length > OUTPUT_TAIL) tail.shift();
          if (/^Step \d+\/\d+ :/.test(line)) onProgress?.({ phase: 'build', step: line });
          lastStepImage = /^ ---> ([0-9a-f]{12,64})$/.exec(line)?.[1] ?? lastStepImage;
        }
      });
    } catch (err) {
      failure = messageOf(err);
    }
    if (failure === undefined) return;
    this.log.error({ version, reason: failure, output: tail.slice(-10) }, 'build failed');
    if (lastStepImage) await this.dropLeftover(lastStepImage);
    throw new BuildError(version, failure, tail);
  }

  /**
   * A failed build leaves the images of its successful steps behind, untagged; on a device they
   * would pile up with every failed version. Removed only while untagged (the first step's image
   * is the tagged base) and never forced: the engine keeps any that another image builds on.
   */
  private async dropLeftover(id: string): Promise<void> {
    const info = await this.inspect(id).catch(() => undefined);
    if (!info || info.RepoTags?.length || info.RepoDigests?.length) return;
    await this.docker
      .getImage(info.Id)
      .remove()
      .then(
        () => this.log.debug({ id: info.Id }, "removed the failed build's leftover images"),
        (err) => this.log.debug({ err, id: info.Id }, "kept the failed build's leftover images"),
      );
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
      [LABEL.role]: 'app',
    });
  }
}

function isOurs(labels: Record<string, string> | null | undefined): boolean {
  return labels?.[LABEL.managedBy] === MANAGED_BY && labels[LABEL.role] === 'app';
}

function toAppImage(info: Docker.ImageInspectInfo, ref: string): AppImage {
  const labels = info.Config.Labels ?? {};
  return {
    id: info.Id,
    ref,
    version: labels[LABEL.version] ?? '',
    commit: labels[LABEL.commit] ?? '',
    architecture: info.Architecture,
    createdAt: info.Created,
  };
}

/** Follows a progress stream to its end; resolves with the error it reported, if any. */
function follow(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onEvent: (e: StreamEvent) => void,
): Promise<string | undefined> {
  let failure: string | undefined;
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err) => (err ? reject(err) : resolve(failure)),
      (e: StreamEvent) => {
        if (e.error || e.errorDetail) failure = e.errorDetail?.message ?? e.error;
        else onEvent(e);
      },
    );
  });
}

function pullError(version: string, ref: string, err: unknown): PullError {
  if (err instanceof PullError) return err;
  const message = messageOf(err);
  let kind: PullFailure = 'registry';
  if (/unauthorized|authentication required|no basic auth|denied|forbidden/i.test(message)) {
    kind = 'auth';
  } else if (statusOf(err) === 404 || /not found|manifest unknown|name unknown/i.test(message)) {
    kind = 'not-found';
  } else if (
    /dial tcp|connection refused|no such host|i\/o timeout|network is unreachable|timeout|EOF|server misbehaving|tls/i.test(
      message,
    )
  ) {
    kind = 'unreachable';
  }
  return new PullError(kind, version, ref, message, { cause: err });
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number } | null)?.statusCode;
}

/** The engine's own message (dockerode prefixes it with "(HTTP code N) ..."). */
function messageOf(err: unknown): string {
  const json = (err as { json?: { message?: string } } | null)?.json;
  if (json?.message) return json.message;
  return err instanceof Error ? err.message : String(err);
}

/** A tar archive holding one regular file: a build context needs no more. */
function tarOf(name: string, content: string): Buffer {
  const body = Buffer.from(content);
  const header = Buffer.alloc(512);
  const field = (value: string, offset: number) => header.write(value, offset, 'ascii');
  field(name, 0);
  field('0000644\0', 100);
  field('0000000\0', 108);
  field('0000000\0', 116);
  field(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
  field('00000000000\0', 136);
  field('        ', 148);
  field('0', 156);
  field('ustar\u000000', 257);
  const sum = header.reduce((a, b) => a + b, 0);
  field(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, padding, Buffer.alloc(1024)]);
}

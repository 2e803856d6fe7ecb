/** The parts of the engine's `docker info` (GET /info) that say where images are stored. */
export interface EngineStorageInfo {
  readonly DockerRootDir?: string;
  readonly Driver?: string;
  /** Pairs such as ["driver-type", "io.containerd.snapshotter.v1"] on the containerd store. */
  readonly DriverStatus?: readonly (readonly string[])[] | null;
  /** API 1.46+ (Docker 27+): the containerd the engine uses. */
  readonly Containerd?: { readonly Address?: string } | null;
}

export interface StorageCandidate {
  readonly path: string;
  /** What the path holds, for logs. */
  readonly holds: 'images' | 'engine data';
  /**
   * A directory that must exist under `path` for it to count as visible. containerd's root is
   * recognised by its content store: compose creates an empty directory on the host when it
   * bind-mounts a path that does not exist, and that directory says nothing about free space.
   */
  readonly marker?: string;
}

export interface StorageChoice {
  readonly imageStore: 'containerd' | 'classic';
  /** Where to measure free space, best first; the first one visible to the agent is used. */
  readonly candidates: readonly StorageCandidate[];
}

const DEFAULT_ROOT = '/var/lib/docker';
/** The root of a containerd started as a system service (Docker's own packages install one). */
const SYSTEM_CONTAINERD_ROOT = '/var/lib/containerd';
const CONTENT_STORE = 'io.containerd.content.v1.content';
// dockerd runs its own containerd when no system one is running: socket under its exec-root
// (/var/run/docker/containerd/containerd.sock), root at <DockerRootDir>/containerd/daemon.
const ENGINE_MANAGED_SOCKET = /\/docker[^/]*\/containerd\/containerd\.sock$/;

export function usesContainerdStore(info: EngineStorageInfo): boolean {
  return (info.DriverStatus ?? []).some(
    ([key, value]) => key === 'driver-type' && value === 'io.containerd.snapshotter.v1',
  );
}

/**
 * Where the engine keeps image data, from its own `docker info`. The classic store keeps
 * images under DockerRootDir; the containerd store keeps them in containerd's root, which the
 * API does not report: it is inferred from containerd's socket address where the engine gives
 * it (Docker 27+), else both usual places are tried. DockerRootDir comes last as a fallback: it
 * holds containers' logs and volumes and shares a filesystem with containerd's root on a default
 * install. `override` (OTA_DISK_CHECK_PATH) replaces all of this.
 */
export function imageStoragePaths(info: EngineStorageInfo, override?: string): StorageChoice {
  const imageStore = usesContainerdStore(info) ? 'containerd' : 'classic';
  if (override) return { imageStore, candidates: [{ path: override, holds: 'images' }] };
  const root = info.DockerRootDir || DEFAULT_ROOT;
  const engineData: StorageCandidate = {
    path: root,
    holds: imageStore === 'classic' ? 'images' : 'engine data',
  };
  if (imageStore === 'classic') return { imageStore, candidates: [engineData] };

  const managed: StorageCandidate = {
    path: `${root}/containerd/daemon`,
    holds: 'images',
    marker: CONTENT_STORE,
  };
  const system: StorageCandidate = {
    path: SYSTEM_CONTAINERD_ROOT,
    holds: 'images',
    marker: CONTENT_STORE,
  };
  const address = info.Containerd?.Address;
  const containerd: StorageCandidate[] = !address
    ? [system, managed]
    : ENGINE_MANAGED_SOCKET.test(address)
      ? [managed]
      : [system];
  return { imageStore, candidates: [...containerd, engineData] };
}

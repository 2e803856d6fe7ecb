import type { DiskUsage } from './disk-space.js';

/** What the agent knows about one version's image on this device. */
export interface AppImage {
  /** Image id (sha256:...). */
  readonly id: string;
  /** The agent's own tag for it, e.g. edge-ota/app:1.4.2. */
  readonly ref: string;
  readonly version: string;
  readonly commit: string;
  readonly architecture: string;
  readonly createdAt: string;
}

export interface ReleaseToInstall {
  readonly version: string;
  readonly tag: string;
  readonly commit: string;
  readonly source: string;
  /** For an agent image: the release's agent fingerprint (agent/self/agent-inputs.ts), as a label. */
  readonly inputs?: string;
}

export type ProgressEvent =
  | { readonly phase: 'build'; readonly step: string }
  | {
      readonly phase: 'pull';
      readonly status: string;
      /** The layer the status is about, when it is about one. */
      readonly layer?: string;
      readonly current?: number;
      readonly total?: number;
    };

/**
 * How an image for a version is obtained and kept. One real implementation: DockerImageStore.
 * Every image it makes carries the agent's labels (agent/labels.ts) with version and commit.
 */
export interface ImageStore {
  /** The local image of a version, if the agent has one. */
  find(version: string): Promise<AppImage | undefined>;
  /** All images the agent made or pulled, newest first. */
  list(): Promise<AppImage[]>;
  /** Builds the version from a build context (a tar of the tag's tree) for the configured platform. */
  build(
    release: ReleaseToInstall,
    contextTar: string,
    onProgress?: (e: ProgressEvent) => void,
  ): Promise<AppImage>;
  /** Pulls <repository>:<version>, checks revision label == commit and architecture == platform. */
  pull(release: ReleaseToInstall, onProgress?: (e: ProgressEvent) => void): Promise<AppImage>;
  /**
   * Leaves no builder-stage image (labelled by the Dockerfile) dangling: the newest of each
   * stage is tagged as the next build's cache, older ones are removed. Returns how many were.
   */
  pruneBuildStages(): Promise<number>;
  /** Removes one of the agent's images (never anything else). */
  remove(version: string): Promise<void>;
  /** Free bytes on the engine's storage, for the disk-space check before build/pull. */
  freeBytes(): Promise<number>;
  /** Free and total bytes on the engine's storage, where visible (diagnostics). */
  diskUsage(): Promise<DiskUsage>;
}

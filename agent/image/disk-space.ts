import { access, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { DiskSpaceError } from '../errors.js';
import type { AgentLogger } from '../log.js';
import {
  type EngineStorageInfo,
  imageStoragePaths,
  type StorageCandidate,
} from './storage-paths.js';

export interface DiskSpaceOptions {
  /** Refuse builds and pulls with less free space than this. */
  readonly minFreeBytes: number;
  /** OTA_DISK_CHECK_PATH: measure here instead of where the engine says it keeps images. */
  readonly path?: string | undefined;
}

/** Free and total bytes of a filesystem, for diagnostics; null where it cannot be read. */
export interface DiskUsage {
  readonly path: string | undefined;
  readonly free: number | null;
  readonly total: number | null;
}

/** statfs of a path; nulls when it cannot be read. */
export async function diskUsageOf(path: string | undefined): Promise<DiskUsage> {
  if (path === undefined) return { path, free: null, total: null };
  try {
    const fs = await statfs(path);
    return { path, free: fs.bavail * fs.bsize, total: fs.blocks * fs.bsize };
  } catch {
    return { path, free: null, total: null };
  }
}

/** Why a candidate path was not used, for the log. */
interface Checked {
  readonly path: string;
  readonly holds: StorageCandidate['holds'];
  readonly result: string;
}

type Resolved = { readonly path: string } | { readonly path: undefined };

/**
 * Free space where the engine stores images, as the agent (in a container) can see it. The
 * path comes from the engine's `docker info` (storage-paths.ts); the first candidate visible
 * in the agent's container is measured. Mounts do not change while the agent runs, so the
 * choice is made once and logged once, naming every path checked.
 */
export class EngineDiskSpace {
  private resolved: Resolved | undefined;
  private warnedUnreadable = false;

  constructor(
    private readonly engineInfo: () => Promise<EngineStorageInfo>,
    private readonly options: DiskSpaceOptions,
    private readonly log: AgentLogger,
  ) {}

  /** Free bytes and where they were measured; Infinity (check skipped) if nowhere visible. */
  async free(): Promise<{ free: number; path: string | undefined }> {
    this.resolved ??= await this.resolve();
    const { path } = this.resolved;
    if (path === undefined) return { free: Number.POSITIVE_INFINITY, path };
    try {
      const fs = await statfs(path);
      return { free: fs.bavail * fs.bsize, path };
    } catch (err) {
      if (!this.warnedUnreadable) {
        this.warnedUnreadable = true;
        this.log.warn({ err, path }, 'cannot read free space: disk-space check skipped');
      }
      return { free: Number.POSITIVE_INFINITY, path };
    }
  }

  /** Where the engine stores images, measured as for the check (diagnostics). */
  async usage(): Promise<DiskUsage> {
    this.resolved ??= await this.resolve();
    return diskUsageOf(this.resolved.path);
  }

  /** Throws DiskSpaceError (and logs it) when less than minFreeBytes is free. */
  async ensure(version: string): Promise<void> {
    const { free, path } = await this.free();
    const required = this.options.minFreeBytes;
    if (free >= required || path === undefined) return;
    const error = new DiskSpaceError(free, required, path);
    this.log.error({ version, free, required, path }, error.message);
    throw error;
  }

  private async resolve(): Promise<Resolved> {
    const info = await this.engineInfo();
    const { imageStore, candidates } = imageStoragePaths(info, this.options.path);
    const checked: Checked[] = [];
    for (const candidate of candidates) {
      const result = await visibility(candidate);
      if (result !== 'visible') {
        checked.push({ path: candidate.path, holds: candidate.holds, result });
        continue;
      }
      const { path, holds } = candidate;
      if (imageStore === 'containerd' && holds === 'engine data') {
        this.log.warn(
          { imageStore, path, holds, checked },
          "the engine's image storage is not visible in the agent: measuring its data directory instead, right only if both share a filesystem (mount containerd's root read-only at the same path, or set OTA_DISK_CHECK_PATH)",
        );
      } else {
        this.log.info({ imageStore, path, holds, checked }, 'disk-space check measures this path');
      }
      return { path };
    }
    this.log.warn(
      { imageStore, checked },
      "cannot read free space of the engine's storage (mount it read-only into the agent at the same path, or set OTA_DISK_CHECK_PATH): disk-space check skipped",
    );
    return { path: undefined };
  }
}

async function visibility(candidate: StorageCandidate): Promise<string> {
  try {
    if (candidate.marker) await access(join(candidate.path, candidate.marker));
    await statfs(candidate.path);
    return 'visible';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    return candidate.marker ? `${code} (looked for ${candidate.marker})` : code;
  }
}

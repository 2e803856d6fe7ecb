import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../agent/config.js';
import { DiskSpaceError } from '../../agent/errors.js';
import { EngineDiskSpace } from '../../agent/image/disk-space.js';
import { type EngineStorageInfo, imageStoragePaths } from '../../agent/image/storage-paths.js';
import { ConfigError } from '../../common/config-error.js';
import { captureLog } from '../helpers/capture-log.js';
import { tempDir } from '../helpers/temp-dir.js';

const CONTENT = 'io.containerd.content.v1.content';
const SNAPSHOTTER = ['driver-type', 'io.containerd.snapshotter.v1'];

// `docker info` as the engines report it (the storage fields only).
/** Debian 12's Docker 20.10 on this machine: the classic store on overlay2. */
const DOCKER_20_CLASSIC: EngineStorageInfo = {
  DockerRootDir: '/var/lib/docker',
  Driver: 'overlay2',
  DriverStatus: [
    ['Backing Filesystem', 'extfs'],
    ['Supports d_type', 'true'],
  ],
};
/** A fresh Docker 29 from Docker's install script: containerd store, system containerd. */
const DOCKER_29_CONTAINERD: EngineStorageInfo = {
  DockerRootDir: '/var/lib/docker',
  Driver: 'overlayfs',
  DriverStatus: [SNAPSHOTTER],
  Containerd: { Address: '/run/containerd/containerd.sock' },
};
/** Docker 26 (API 1.45: no Containerd field) as ENVIRONMENT.md runs it, its own data root. */
const DOCKER_26_CONTAINERD: EngineStorageInfo = {
  DockerRootDir: '/var/lib/docker26',
  Driver: 'overlayfs',
  DriverStatus: [SNAPSHOTTER],
};

const paths = (info: EngineStorageInfo, override?: string) =>
  imageStoragePaths(info, override).candidates.map((c) => c.path);

describe('where the engine stores images (pure, from docker info)', () => {
  it('classic store: DockerRootDir', () => {
    expect(imageStoragePaths(DOCKER_20_CLASSIC).imageStore).toBe('classic');
    expect(paths(DOCKER_20_CLASSIC)).toEqual(['/var/lib/docker']);
    expect(paths({ ...DOCKER_20_CLASSIC, DriverStatus: null })).toEqual(['/var/lib/docker']);
  });

  it("containerd store with a system containerd: containerd's root, then DockerRootDir", () => {
    const choice = imageStoragePaths(DOCKER_29_CONTAINERD);
    expect(choice.imageStore).toBe('containerd');
    expect(choice.candidates).toEqual([
      { path: '/var/lib/containerd', holds: 'images', marker: CONTENT },
      { path: '/var/lib/docker', holds: 'engine data' },
    ]);
  });

  it('containerd store with the containerd dockerd started itself: under DockerRootDir', () => {
    const managed = { ...DOCKER_29_CONTAINERD, DockerRootDir: '/srv/docker' };
    for (const Address of [
      '/var/run/docker/containerd/containerd.sock',
      '/run/docker/containerd/containerd.sock',
      '/var/run/docker26/containerd/containerd.sock',
    ]) {
      expect(paths({ ...managed, Containerd: { Address } })).toEqual([
        '/srv/docker/containerd/daemon',
        '/srv/docker',
      ]);
    }
  });

  it('containerd store on an engine that does not say which containerd: both places', () => {
    expect(paths(DOCKER_26_CONTAINERD)).toEqual([
      '/var/lib/containerd',
      '/var/lib/docker26/containerd/daemon',
      '/var/lib/docker26',
    ]);
  });

  it('OTA_DISK_CHECK_PATH replaces the choice on either store', () => {
    expect(paths(DOCKER_20_CLASSIC, '/mnt/ssd')).toEqual(['/mnt/ssd']);
    expect(paths(DOCKER_29_CONTAINERD, '/mnt/ssd')).toEqual(['/mnt/ssd']);
  });

  it('OTA_DISK_CHECK_PATH must be an absolute path', () => {
    const base = { OTA_REPO_URL: 'https://github.com/acme/weather.git' };
    expect(loadAgentConfig(base).diskCheckPath).toBeUndefined();
    expect(loadAgentConfig({ ...base, OTA_DISK_CHECK_PATH: '/host/ssd' }).diskCheckPath).toBe(
      '/host/ssd',
    );
    expect(() => loadAgentConfig({ ...base, OTA_DISK_CHECK_PATH: 'var/lib' })).toThrow(ConfigError);
  });
});

describe('the disk-space check on real directories', () => {
  /** An engine whose dockerd-started containerd keeps its root under `root`. */
  const managedEngine = (root: string): EngineStorageInfo => ({
    ...DOCKER_29_CONTAINERD,
    DockerRootDir: root,
    Containerd: { Address: '/var/run/docker/containerd/containerd.sock' },
  });

  it("measures containerd's root on the containerd store, and says so once", async () => {
    const root = tempDir();
    const containerd = join(root, 'containerd', 'daemon');
    mkdirSync(join(containerd, CONTENT), { recursive: true });
    const { log, events } = captureLog();
    const disk = new EngineDiskSpace(async () => managedEngine(root), { minFreeBytes: 1e18 }, log);

    const { free, path } = await disk.free();
    expect(path).toBe(containerd);
    expect(free).toBeGreaterThan(0);
    const err = await disk.ensure('1.2.0').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskSpaceError);
    expect((err as DiskSpaceError).path).toBe(containerd);
    const chosen = events().filter((e) => e.msg === 'disk-space check measures this path');
    expect(chosen).toEqual([
      expect.objectContaining({ imageStore: 'containerd', path: containerd, holds: 'images' }),
    ]);
  });

  it("falls back to DockerRootDir with one warning naming what was checked when containerd's root is not mounted", async () => {
    const root = tempDir();
    // What compose leaves when the host path did not exist: an empty directory.
    mkdirSync(join(root, 'containerd', 'daemon'), { recursive: true });
    const { log, events } = captureLog();
    const disk = new EngineDiskSpace(async () => managedEngine(root), { minFreeBytes: 0 }, log);

    expect((await disk.free()).path).toBe(root);
    expect((await disk.free()).path).toBe(root);
    const warnings = events().filter((e) => e.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      imageStore: 'containerd',
      path: root,
      holds: 'engine data',
      checked: [
        {
          path: join(root, 'containerd', 'daemon'),
          holds: 'images',
          result: `ENOENT (looked for ${CONTENT})`,
        },
      ],
    });
    expect(String(warnings[0]?.msg)).toMatch(/OTA_DISK_CHECK_PATH/);
  });

  // Where this machine runs a system containerd, that one is (rightly) found first.
  const SYSTEM_CONTAINERD = existsSync(join('/var/lib/containerd', CONTENT));
  it.skipIf(SYSTEM_CONTAINERD)(
    'measures the containerd root dockerd started when an engine does not say which, without a warning',
    async () => {
      const root = tempDir();
      const containerd = join(root, 'containerd', 'daemon');
      mkdirSync(join(containerd, CONTENT), { recursive: true });
      const { log, events } = captureLog();
      // Docker 26: no Containerd field, so /var/lib/containerd is tried first (absent here).
      const info = { ...DOCKER_26_CONTAINERD, DockerRootDir: root };
      const disk = new EngineDiskSpace(async () => info, { minFreeBytes: 0 }, log);
      expect((await disk.free()).path).toBe(containerd);
      expect(events().filter((e) => e.level === 40)).toEqual([]);
    },
  );

  it('skips the check, after one warning listing every path checked, when none is visible', async () => {
    const { log, events } = captureLog();
    const disk = new EngineDiskSpace(
      async () => DOCKER_20_CLASSIC,
      { minFreeBytes: 1e18, path: '/nonexistent/ssd' },
      log,
    );
    expect(await disk.free()).toEqual({ free: Number.POSITIVE_INFINITY, path: undefined });
    await expect(disk.ensure('1.2.0')).resolves.toBeUndefined();
    const warnings = events().filter((e) => e.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      imageStore: 'classic',
      checked: [{ path: '/nonexistent/ssd', holds: 'images', result: 'ENOENT' }],
    });
  });
});

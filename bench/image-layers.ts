// Prints what a release costs a device in image data, for Dockerfile.app as it is and for the
// layout before issue 12 (47642e9), side by side in one run: version A, then B with one line
// of app code changed, then C with the lock file changed. For each: the unique bytes its
// layers add on the device (build mode: the agent's own build), and the bytes a device that
// holds the previous version pulls from the registry (pull mode: counted at the registry).
// Usage: npm run build && npm run bench:layers     (about 10 minutes on 2 cores)
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { DockerImageStore } from '../agent/image/docker-image-store.js';
import { LABEL, MANAGED_BY } from '../agent/labels.js';
import { createAgentLogger } from '../agent/log.js';
import { docker } from '../test/helpers/docker-cli.js';
import { appContext, type Layer, layersOf, uniqueBytes } from '../test/helpers/image-layers.js';
import { TestRegistry } from '../test/helpers/registry.js';
import { loadTestEnv, printTable, REPO_ROOT } from './lib/bench-env.js';
import { RegistryMeter } from './lib/registry-meter.js';

const OLD_LAYOUT = '47642e9';
const RELEASES = [
  { version: '1.0.0', change: 'none', what: 'A: first version' },
  { version: '1.0.1', change: 'code', what: 'B: one line of app code' },
  { version: '1.0.2', change: 'lock', what: 'C: package-lock.json changed' },
] as const;
const suffix = randomBytes(3).toString('hex');
const engine = new Docker();
const log = createAgentLogger('warn');
const progress = (message: string) => console.error(`[bench:layers] ${message}`);

type Row = [string, string, string];
const size = (bytes: number) =>
  bytes < 1024 * 1024
    ? `${(bytes / 1024).toFixed(1)} KiB`
    : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function storeFor(localRepository: string, repository: string) {
  return new DockerImageStore(
    engine,
    {
      platform: 'linux/amd64',
      repository,
      localRepository,
      buildArgs: {
        NODE_IMAGE: process.env.OTA_NODE_IMAGE ?? 'node:20-bookworm-slim',
        NODE_BUILD_IMAGE: process.env.OTA_NODE_BUILD_IMAGE ?? 'node:20-bookworm',
      },
      minFreeBytes: 0,
    },
    log,
  );
}

/**
 * Dangling images of ours: any with the stage label (the store's pruning answers for all of
 * them), and app images of the commits this bench built; other users of a shared engine leave
 * their own.
 */
async function ourDangling(commits: readonly string[]): Promise<number> {
  const dangling = await engine.listImages({ filters: { dangling: ['true'] } });
  const ours = (i: Docker.ImageInfo) =>
    i.Labels?.[LABEL.stage] !== undefined ||
    (i.Labels?.[LABEL.managedBy] === MANAGED_BY &&
      commits.includes(i.Labels?.[LABEL.commit] ?? ''));
  return dangling.filter(ours).length;
}

/** One layout: build A, B, C as the agent does, push them, then pull them as a device would. */
async function measure(
  layout: 'now' | 'old',
  dockerfile: string | undefined,
  registry: TestRegistry,
  meter: RegistryMeter,
  dir: string,
): Promise<Row[]> {
  const name = `ota-bench-${suffix}-${layout}`;
  const title = layout === 'now' ? 'Dockerfile.app now' : `Dockerfile.app at ${OLD_LAYOUT}`;
  const builder = storeFor(`${name}/app`, 'unused.invalid/weather');
  const device = storeFor(`${name}-device/app`, `${meter.address}/${name}`);
  const base = await layersOf(engine, process.env.OTA_NODE_IMAGE ?? 'node:20-bookworm-slim');
  const rows: Row[] = [];
  const built: Layer[][] = [];
  const commits = RELEASES.map(() => randomBytes(20).toString('hex'));
  const release = (i: number) => {
    const { version } = RELEASES[i] ?? RELEASES[0];
    return { version, tag: `v${version}`, commit: commits[i] ?? '', source: 'bench' };
  };
  try {
    for (const [i, r] of RELEASES.entries()) {
      progress(`${layout}: building ${r.version} (${r.change})`);
      const tar = await appContext(dir, `${layout}-${r.version}`, r.change, dockerfile);
      await builder.build(release(i), tar);
      await builder.pruneBuildStages();
      const layers = await layersOf(engine, `${name}/app:${r.version}`);
      rows.push([
        r.what,
        `${title}: added on the device by a build`,
        size(uniqueBytes(built.at(-1) ?? base, layers)),
      ]);
      built.push(layers);
      await registry.push(`${name}/app:${r.version}`, name, r.version);
    }
    for (const r of RELEASES) await builder.remove(r.version);
    for (const [i, r] of RELEASES.entries()) {
      progress(`${layout}: pulling ${r.version} through the meter`);
      meter.reset();
      await device.pull(release(i));
      const pulled = `${size(meter.bytes)} (${meter.blobs} blobs)`;
      rows.push([r.what, `${title}: pulled by a device holding the previous`, pulled]);
    }
    await device.pruneBuildStages();
    rows.push([
      'after the updates',
      `${title}: dangling images with our labels`,
      String(await ourDangling(commits)),
    ]);
  } finally {
    for (const r of RELEASES) {
      await builder.remove(r.version).catch(() => undefined);
      await device.remove(r.version).catch(() => undefined);
    }
    for (const stage of ['build', 'prod-deps']) {
      await docker(['rmi', `${builder.stageCacheRepository()}:${stage}`]).catch(() => undefined);
    }
  }
  return rows;
}

async function main() {
  loadTestEnv();
  const dir = mkdtempSync(join(tmpdir(), 'ota-bench-layers-'));
  const registry = await TestRegistry.start();
  const meter = new RegistryMeter(registry.address);
  await meter.start();
  try {
    const old = (
      await promisify(execFile)('git', ['show', `${OLD_LAYOUT}:Dockerfile.app`], { cwd: REPO_ROOT })
    ).stdout;
    const rows = [
      ...(await measure('now', undefined, registry, meter, dir)),
      ...(await measure('old', old, registry, meter, dir)),
    ];
    // Grouped by release, the two layouts next to each other.
    const parts = [...RELEASES.map((r) => r.what), 'after the updates'];
    printTable(parts.flatMap((part) => rows.filter((r) => r[0] === part)));
  } finally {
    await meter.stop();
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

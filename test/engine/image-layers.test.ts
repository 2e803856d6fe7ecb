import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerImageStore } from '../../agent/image/docker-image-store.js';
import { LABEL, MANAGED_BY } from '../../agent/labels.js';
import { captureLog } from '../helpers/capture-log.js';
import { docker } from '../helpers/docker-cli.js';
import {
  appContext,
  dependencyLayer,
  type Layer,
  layersOf,
  sharedPrefix,
  uniqueBytes,
} from '../helpers/image-layers.js';
import { tempDirForSuite } from '../helpers/temp-dir.js';

const MB = 1024 * 1024;
const engine = new Docker();
const suffix = randomUUID().slice(0, 8);
const REPO = `ota-test-${suffix}/app`;
const CACHE_REPO = `${REPO}-build-cache`;

/**
 * Dangling images that are ours: any with the stage label (the store's pruning answers for all
 * of them), and app images of the commits this file built (other suites on a shared engine
 * leave their own, with the same version numbers).
 */
async function ourDangling(commits: string[]): Promise<string[]> {
  const dangling = await engine.listImages({ filters: { dangling: ['true'] } });
  const ours = (i: Docker.ImageInfo) =>
    i.Labels?.[LABEL.stage] !== undefined ||
    (i.Labels?.[LABEL.managedBy] === MANAGED_BY &&
      commits.includes(i.Labels?.[LABEL.commit] ?? ''));
  return dangling.filter(ours).map((i) => `${i.Id} ${i.Labels?.[LABEL.stage] ?? ''}`);
}

/**
 * The real Dockerfile.app built three times the agent's way (DockerImageStore.build from a tar
 * of the tree, then its pruning, as the updater does after every build): A, B with one line of
 * app code changed, C with the lock file changed.
 */
describe('Dockerfile.app layers across releases (real engine, real build)', () => {
  const dir = tempDirForSuite();
  const { log } = captureLog();
  const store = new DockerImageStore(
    engine,
    {
      platform: 'linux/amd64',
      repository: 'unused.invalid/weather',
      localRepository: REPO,
      buildArgs: {
        NODE_IMAGE: process.env.OTA_NODE_IMAGE || 'local/node:20',
        NODE_BUILD_IMAGE: process.env.OTA_NODE_BUILD_IMAGE || 'local/node-build:20',
      },
      minFreeBytes: 0,
    },
    log,
  );
  const layers = new Map<string, Layer[]>();
  const commits: string[] = [];

  async function release(version: string, change: 'none' | 'code' | 'lock') {
    const commit = randomUUID().replaceAll('-', '').padEnd(40, '0');
    commits.push(commit);
    const r = { version, tag: `v${version}`, commit, source: 'test' };
    await store.build(r, await appContext(dir, version, change));
    await store.pruneBuildStages();
    layers.set(version, await layersOf(engine, `${REPO}:${version}`));
    return layers.get(version) ?? [];
  }

  afterAll(async () => {
    for (const v of layers.keys()) await docker(['rmi', `${REPO}:${v}`]).catch(() => undefined);
    for (const stage of ['build', 'prod-deps', 'deps']) {
      await docker(['rmi', `${CACHE_REPO}:${stage}`]).catch(() => undefined);
    }
  });

  it('a code-only release reuses the dependency layer and adds at most 1 MB', async () => {
    const a = await release('1.0.0', 'none');
    const b = await release('1.0.1', 'code');
    const deps = dependencyLayer(b);
    log.info({ a, b }, 'layers');
    expect(b[deps]?.diffId).toBe(a[dependencyLayer(a)]?.diffId);
    expect(b[deps]?.size).toBeGreaterThan(10 * MB); // it is the dependency layer
    // Only the compiled code differs: every layer but the last is shared.
    expect(sharedPrefix(a, b)).toBe(b.length - 1);
    expect(uniqueBytes(a, b)).toBeLessThanOrEqual(1 * MB);
  }, 1_500_000);

  // A cold npm ci with a native compile (2-5 minutes): run on the modern lane only, the engine
  // users run, to keep CI inside its budget. bench:layers measures it on either engine.
  it.skipIf(process.env.OTA_ENGINE_LANE === 'classic')(
    'a lock-file change re-creates the dependency layer and adds at most 1 MB besides it',
    async () => {
      const b = layers.get('1.0.1') ?? [];
      const c = await release('1.0.2', 'lock');
      const deps = dependencyLayer(c);
      expect(c[deps]?.diffId).not.toBe(b[dependencyLayer(b)]?.diffId);
      // Everything below the dependency layer (the base, /data) is reused.
      expect(sharedPrefix(b, c)).toBe(deps);
      expect(uniqueBytes(b, c) - (c[deps]?.size ?? 0)).toBeLessThanOrEqual(1 * MB);
    },
    1_500_000,
  );

  it('leaves no dangling image of ours after these updates, and keeps each stage as cache', async () => {
    expect(await ourDangling(commits)).toEqual([]);
    const cached = await engine.listImages({ filters: { reference: [CACHE_REPO] } });
    const tags = cached.flatMap((i) => i.RepoTags ?? []).sort();
    expect(tags).toEqual([`${CACHE_REPO}:build`, `${CACHE_REPO}:prod-deps`]);
  });
});

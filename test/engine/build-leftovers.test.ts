import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerImageStore } from '../../agent/image/docker-image-store.js';
import type { AgentLogger } from '../../agent/log.js';
import { StatusBoard } from '../../agent/status.js';
import { Updater } from '../../agent/updater.js';
import { captureLog } from '../helpers/capture-log.js';
import { makeDeployer } from '../helpers/deploy-fixture.js';
import { docker } from '../helpers/docker-cli.js';
import { makeWatcher } from '../helpers/release-fixture.js';
import { tempDir, tempDirForSuite } from '../helpers/temp-dir.js';

const NODE_IMAGE = process.env.OTA_NODE_IMAGE || 'local/node:20';
const engine = new Docker();
const suffix = randomUUID().slice(0, 8);
const REPO = `ota-test-${suffix}/app`;

/**
 * Dockerfile.app's shape: a dependency stage, two labelled builder stages from it, then a small
 * runtime stage. `content` stands for the lock file (the dependency stage), `code` for the app.
 */
const dockerfile = (content: string, code: string) =>
  [
    'ARG NODE_IMAGE',
    'FROM $NODE_IMAGE AS deps',
    `RUN echo ${content} > /deps.txt`,
    'FROM deps AS prod-deps',
    'RUN cp /deps.txt /prod-deps.txt',
    'LABEL io.edge-ota.stage="prod-deps"',
    'FROM deps AS build',
    `RUN echo ${code} > /built.txt`,
    'LABEL io.edge-ota.stage="build"',
    'FROM $NODE_IMAGE',
    'COPY --from=prod-deps /prod-deps.txt /prod-deps.txt',
    'COPY --from=build /built.txt /built.txt',
    'CMD ["node","-e","setInterval(()=>{},1000)"]',
  ].join('\n');

async function contextTar(dir: string, content: string, code: string): Promise<string> {
  const tree = join(dir, `${content}-${code}`);
  mkdirSync(tree);
  writeFileSync(join(tree, 'Dockerfile.app'), dockerfile(content, code));
  const tar = `${tree}.tar`;
  await promisify(execFile)('tar', ['-C', tree, '-cf', tar, '.']);
  return tar;
}

const imageStore = (log: AgentLogger) =>
  new DockerImageStore(
    engine,
    {
      platform: 'linux/amd64',
      repository: '',
      localRepository: REPO,
      buildArgs: { NODE_IMAGE },
      minFreeBytes: 0,
    },
    log,
  );

const CACHE_REPO = `${REPO}-build-cache`;

/** Dangling images with the stage label: the test asserts there are none. */
const danglingStages = async () =>
  (
    await docker([
      'images',
      '-q',
      '--filter',
      'dangling=true',
      '--filter',
      'label=io.edge-ota.stage',
    ])
  )
    .split('\n')
    .filter(Boolean);

/** Image id of the cache tag of `stage`, or '' if it is missing. */
const cached = (stage: string) =>
  docker(['image', 'inspect', '-f', '{{.Id}}', `${CACHE_REPO}:${stage}`]).catch(() => '');

/** Every image with the stage label, tagged or not, that is not someone else's tag. */
const stageImageIds = async () =>
  (await docker(['images', '-a', '-q', '--no-trunc', '--filter', 'label=io.edge-ota.stage']))
    .split('\n')
    .filter(Boolean);

describe('builds leave nothing behind (real engine)', () => {
  const dir = tempDirForSuite();
  const versions: string[] = [];

  afterAll(async () => {
    for (const v of versions) await docker(['rmi', '-f', `${REPO}:${v}`]).catch(() => undefined);
    for (const stage of ['build', 'prod-deps']) {
      await docker(['rmi', `${CACHE_REPO}:${stage}`]).catch(() => undefined);
    }
  });

  it('after each build no stage image is dangling: the newest of each stage is tagged as cache, older ones removed', async () => {
    const { log } = captureLog();
    const store = imageStore(log);
    const lock = `${suffix}-${randomBytes(4).toString('hex')}`;
    const built: Record<string, string>[] = [];
    const release = (version: string) => ({
      version,
      tag: `v${version}`,
      commit: 'c'.repeat(40),
      source: 'test',
    });
    // Two code-only releases on one lock file, then a third with a new lock file.
    for (const [i, content] of [lock, lock, `${lock}-new`].entries()) {
      const version = `0.0.${i + 1}`;
      versions.push(version);
      const code = randomBytes(4).toString('hex');
      await store.build(release(version), await contextTar(dir, content, code));
      await store.pruneBuildStages();
      expect(await danglingStages()).toEqual([]);
      built.push({ build: await cached('build'), prodDeps: await cached('prod-deps') });
    }
    const [first, second, third] = built;
    expect(first?.build).toMatch(/^sha256:/);
    // A code-only release: a new build stage, the prod-deps stage was the cache's own image.
    expect(second?.build).not.toBe(first?.build);
    expect(second?.prodDeps).toBe(first?.prodDeps);
    // A new lock file: both stages new.
    expect(third?.prodDeps).not.toBe(second?.prodDeps);
    // The superseded ones are gone, not just untagged.
    const left = await stageImageIds();
    for (const old of [first?.build, second?.build, first?.prodDeps]) {
      expect(left).not.toContain(old);
    }
    expect(left).toEqual(expect.arrayContaining([third?.build, third?.prodDeps]));
  });

  it('leaves alone a stage image someone tagged themselves', async () => {
    const { log } = captureLog();
    const theirs = `ota-test-theirs-${suffix}:build`;
    const tree = join(dir, 'theirs');
    mkdirSync(tree);
    writeFileSync(join(tree, 'Dockerfile'), dockerfile(`${suffix}-theirs`, 'theirs'));
    await docker([
      'build',
      '-q',
      '--target',
      'build',
      '--build-arg',
      `NODE_IMAGE=${NODE_IMAGE}`,
      '-t',
      theirs,
      tree,
    ]);
    try {
      const id = await docker(['image', 'inspect', '-f', '{{.Id}}', theirs]);
      await imageStore(log).pruneBuildStages();
      expect(await docker(['image', 'inspect', '-f', '{{.Id}}', theirs])).toBe(id);
      expect(await cached('build')).not.toBe(id);
    } finally {
      await docker(['rmi', theirs]).catch(() => undefined);
    }
  });

  it('an agent that starts after being killed in a build removes its context file', async () => {
    const stateDir = tempDir();
    const { log } = captureLog();
    const made = await makeDeployer(stateDir, {
      network: `ota-test-net-${suffix}`,
      volume: `ota-test-data-${suffix}`,
    });
    const { source } = makeWatcher({
      url: 'http://127.0.0.1:9/unused.git',
      stateDir: join(stateDir, 'release'),
    });
    const store = imageStore(log);
    const context = join(stateDir, 'contexts', '9.9.9.tar');
    mkdirSync(join(stateDir, 'contexts'));
    writeFileSync(context, 'a context a killed build left');
    const updater = new Updater(
      source,
      store,
      made.deployer,
      made.state,
      new StatusBoard(),
      {
        imageSource: 'build',
        keepImages: 3,
        repoUrl: 'unused',
        stateDir,
      },
      log,
    );
    await updater.removeLeftovers();
    expect(existsSync(context)).toBe(false);
    await made.state.close();
  });
});

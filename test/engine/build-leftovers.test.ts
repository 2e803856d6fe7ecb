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

/** Dockerfile.app's shape: a builder stage labelled as the app's, then a small runtime stage. */
const dockerfile = (content: string) =>
  [
    'ARG NODE_IMAGE',
    'FROM $NODE_IMAGE AS build',
    `RUN echo ${content} > /built.txt`,
    'LABEL io.edge-ota.stage="build"',
    'FROM $NODE_IMAGE',
    'COPY --from=build /built.txt /built.txt',
    'CMD ["node","-e","setInterval(()=>{},1000)"]',
  ].join('\n');

async function contextTar(dir: string, content: string): Promise<string> {
  mkdirSync(join(dir, content));
  writeFileSync(join(dir, content, 'Dockerfile.app'), dockerfile(content));
  const tar = join(dir, `${content}.tar`);
  await promisify(execFile)('tar', ['-C', join(dir, content), '-cf', tar, '.']);
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

const stageImages = async () =>
  (
    await docker([
      'images',
      '-q',
      '--filter',
      'dangling=true',
      '--filter',
      'label=io.edge-ota.stage=build',
    ])
  )
    .split('\n')
    .filter(Boolean);

describe('builds leave nothing behind (real engine)', () => {
  const dir = tempDirForSuite();
  const versions: string[] = [];

  afterAll(async () => {
    for (const v of versions) await docker(['rmi', '-f', `${REPO}:${v}`]).catch(() => undefined);
    for (const id of await stageImages()) await docker(['rmi', id]).catch(() => undefined);
  });

  it('each build prunes the builder stages of earlier builds, keeping the newest as cache', async () => {
    const { log } = captureLog();
    const store = imageStore(log);
    for (let i = 1; i <= 3; i++) {
      const version = `0.0.${i}`;
      versions.push(version);
      const content = `${suffix}-${randomBytes(4).toString('hex')}`; // a new dependency layer
      const release = { version, tag: `v${version}`, commit: 'c'.repeat(40), source: 'test' };
      await store.build(release, await contextTar(dir, content));
      await store.pruneBuildStages();
    }
    expect(await stageImages()).toHaveLength(1);
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

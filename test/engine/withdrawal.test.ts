import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerImageStore } from '../../agent/image/docker-image-store.js';
import { parseVersion } from '../../agent/release/version.js';
import { StatusBoard } from '../../agent/status.js';
import { Updater } from '../../agent/updater.js';
import { captureLog } from '../helpers/capture-log.js';
import { cleanupManaged, makeDeployer } from '../helpers/deploy-fixture.js';
import { docker, REPO_ROOT } from '../helpers/docker-cli.js';
import { GitHttpServer } from '../helpers/git-http-server.js';
import { TestRepo } from '../helpers/git-repo.js';
import { makeWatcher } from '../helpers/release-fixture.js';
import { tempDirForSuite } from '../helpers/temp-dir.js';

const LOCAL_REPOSITORY = 'ota-test/withdrawal';
const v = (text: string) => parseVersion(text) ?? (undefined as never);

describe('a withdrawal, from the policy to the running container', () => {
  const dir = tempDirForSuite('ota-withdrawal-');
  const id = randomUUID().slice(0, 8);
  const names = { network: `ota-test-net-${id}`, volume: `ota-test-data-${id}` };
  const engine = new Docker();
  let server: GitHttpServer;
  let repo: TestRepo;

  beforeAll(async () => {
    server = new GitHttpServer({ root: join(dir, 'srv') });
    await server.start();
    repo = await TestRepo.create(dir, join(dir, 'srv'), 'fixture-app');
    // The fixture app as a repository would hold it: its Dockerfile is Dockerfile.app.
    const fixture = join(REPO_ROOT, 'test/fixtures/app-fixture');
    await repo.commit('app', {
      'Dockerfile.app': readFileSync(join(fixture, 'Dockerfile'), 'utf8'),
      'fixture.js': readFileSync(join(fixture, 'fixture.js'), 'utf8'),
    });
    await repo.tag('v7.0.0');
    await repo.commit('7.1.0', { 'release.txt': '7.1.0\n' });
    await repo.tag('v7.1.0');
  });

  afterAll(async () => {
    await cleanupManaged(engine, names);
    for (const version of ['7.0.0', '7.1.0']) {
      await docker(['rmi', '-f', `${LOCAL_REPOSITORY}:${version}`]).catch(() => undefined);
    }
    await server.stop();
  });

  it('moves the device back to the allowed version from its local image, with no fetch and no build', async () => {
    const { log, events } = captureLog();
    mkdirSync(join(dir, 'state'), { recursive: true });
    const made = await makeDeployer(join(dir, 'state'), names, {
      imageOf: async (version) => (await images.find(version))?.ref,
    });
    const images = new DockerImageStore(
      engine,
      {
        platform: 'linux/amd64',
        repository: '',
        localRepository: LOCAL_REPOSITORY,
        buildArgs: { NODE_IMAGE: process.env.OTA_NODE_IMAGE ?? 'node:20-bookworm-slim' },
        minFreeBytes: 0,
      },
      log,
    );
    const { watcher, source } = makeWatcher(
      { url: server.url('fixture-app'), stateDir: join(dir, 'agent') },
      { device: { id: 'pi-withdrawal', groups: [] } },
    );
    const updater = new Updater(
      source,
      images,
      made.deployer,
      made.state,
      new StatusBoard(),
      {
        imageSource: 'build',
        keepImages: 3,
        repoUrl: server.url('fixture-app'),
        stateDir: join(dir, 'agent'),
      },
      log,
    );

    // 7.0.0, then 7.1.0, each found by the watcher, built from its tag and switched to.
    const newest = (await watcher.poll(undefined, new Set())).target;
    if (!newest) throw new Error('the watcher found no release');
    expect(newest.version).toBe('7.1.0');
    const commit = await repo.git('rev-parse', 'v7.0.0^{commit}');
    const older = { ...newest, version: '7.0.0', tag: 'v7.0.0', commit };
    const first = await updater.apply(older);
    expect(first, JSON.stringify(first)).toMatchObject({ outcome: 'succeeded' });
    expect(await updater.apply(newest)).toMatchObject({ outcome: 'succeeded', version: '7.1.0' });
    const kept = await images.find('7.0.0');
    expect(kept).toBeDefined();

    await repo.setPolicy(JSON.stringify({ releases: { '7.1.0': { withdrawn: true } } }));
    const back = (await watcher.poll(v('7.1.0'), new Set())).target;
    if (!back) throw new Error('the withdrawal gave no target');
    expect(back.version).toBe('7.0.0');

    server.reset();
    const builds = events().filter((e) => e.msg === 'building image').length;
    expect(await updater.apply(back)).toMatchObject({ outcome: 'succeeded', version: '7.0.0' });
    expect((await made.deployer.running())?.version).toBe('7.0.0');
    expect((await images.find('7.0.0'))?.id).toBe(kept?.id); // the same local image
    expect(events().filter((e) => e.msg === 'building image').length).toBe(builds); // no build
    expect((await server.traffic()).requests).toBe(0); // no git traffic at all
    await made.state.close();
  });
});

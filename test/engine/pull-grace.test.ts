import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
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
import { TestRegistry } from '../helpers/registry.js';
import { makeWatcher } from '../helpers/release-fixture.js';
import { tempDirForSuite } from '../helpers/temp-dir.js';

const MIN = 60_000;
const LOCAL_REPOSITORY = 'ota-test/pull-grace';

/**
 * Pull mode, with the image pushed after the tag (as CI does): the device waits for it for
 * OTA_PULL_GRACE, then deploys it; an image that never comes fails after that time. The
 * monotonic clock is the test's, so "3 minutes later" takes no 3 minutes.
 */
describe('pull mode: the image appears after the tag', () => {
  const dir = tempDirForSuite('ota-pull-grace-');
  const id = randomUUID().slice(0, 8);
  const names = { network: `ota-test-net-${id}`, volume: `ota-test-data-${id}` };
  const built = `ota-test-pull-grace-${id}`;
  const engine = new Docker();
  let server: GitHttpServer;
  let registry: TestRegistry;
  let repo: TestRepo;

  beforeAll(async () => {
    server = new GitHttpServer({ root: join(dir, 'srv') });
    await server.start();
    registry = await TestRegistry.start();
    repo = await TestRepo.create(dir, join(dir, 'srv'), 'weather');
  });

  afterAll(async () => {
    await cleanupManaged(engine, names);
    for (const ref of [`${LOCAL_REPOSITORY}:5.0.0`, `${LOCAL_REPOSITORY}:5.1.0`, built]) {
      await docker(['rmi', '-f', ref]).catch(() => undefined);
    }
    await registry?.stop();
    await server?.stop();
  });

  /** What CI does after the tag: build the app at the tag's commit and push it. */
  async function publish(version: string, commit: string): Promise<void> {
    await docker([
      'build',
      '-q',
      '--build-arg',
      `NODE_IMAGE=${process.env.OTA_NODE_IMAGE ?? 'node:20-bookworm-slim'}`,
      '--build-arg',
      `VERSION=${version}`,
      '--build-arg',
      `REVISION=${commit}`,
      '-t',
      built,
      join(REPO_ROOT, 'test/fixtures/app-fixture'),
    ]);
    await registry.push(built, 'weather', version);
  }

  it('waits for an image pushed 3 minutes after its tag, and fails one that never comes', async () => {
    let clock = 0; // the monotonic clock, in ms
    const { log, events } = captureLog();
    mkdirSync(join(dir, 'state'), { recursive: true });
    const made = await makeDeployer(join(dir, 'state'), names, {
      imageOf: async (version) => (await images.find(version))?.ref,
    });
    const images = new DockerImageStore(
      engine,
      {
        platform: 'linux/amd64',
        repository: `${registry.address}/weather`,
        localRepository: LOCAL_REPOSITORY,
        buildArgs: {},
        minFreeBytes: 0,
      },
      log,
    );
    const { watcher, source } = makeWatcher(
      { url: server.url('weather'), stateDir: join(dir, 'agent') },
      { monotonic: () => clock },
    );
    const updater = new Updater(
      source,
      images,
      made.deployer,
      made.state,
      new StatusBoard(),
      {
        imageSource: 'pull',
        keepImages: 3,
        repoUrl: server.url('weather'),
        stateDir: join(dir, 'agent'),
        pullGraceMs: 10 * MIN,
        monotonic: () => clock,
      },
      log,
    );
    const failed = async () => new Set((await made.state.failedVersions()).keys());
    const pollAndApply = async (current?: string) => {
      const result = await watcher.poll(
        current === undefined ? undefined : parseVersion(current),
        await failed(),
      );
      return (
        result.target && { target: result.target, outcome: await updater.apply(result.target) }
      );
    };

    const commit = await repo.commit('5.0.0');
    await repo.tag('v5.0.0');
    // Polls at 0 and 2 minutes: no image yet. Not failed: tried again at the next poll.
    for (const at of [0, 2 * MIN]) {
      clock = at;
      const step = await pollAndApply();
      expect(step?.target).toMatchObject({ version: '5.0.0', firstSeenAt: 0 });
      expect(step?.outcome).toMatchObject({ outcome: 'failed' });
      expect(await failed()).toEqual(new Set());
    }
    // CI pushes the image 3 minutes after the tag; the next poll deploys it.
    await publish('5.0.0', commit);
    clock = 3 * MIN;
    expect((await pollAndApply())?.outcome).toMatchObject({
      outcome: 'succeeded',
      version: '5.0.0',
    });
    expect((await made.deployer.running())?.version).toBe('5.0.0');
    expect(await failed()).toEqual(new Set());

    // 5.1.0's image never comes: waited for, then failed once the grace has passed.
    await repo.commit('5.1.0');
    await repo.tag('v5.1.0');
    clock = 4 * MIN;
    expect((await pollAndApply('5.0.0'))?.target).toMatchObject({
      version: '5.1.0',
      firstSeenAt: 4 * MIN,
    });
    expect(await failed()).toEqual(new Set());
    clock = 14 * MIN;
    expect((await pollAndApply('5.0.0'))?.outcome).toMatchObject({ outcome: 'failed' });
    const marks = await made.state.failedVersions();
    expect(marks.get('5.1.0')).toMatch(
      /no image 10 min after the tag appeared \(OTA_PULL_GRACE 10 min\)/,
    );
    expect(await pollAndApply('5.0.0')).toBeUndefined(); // not tried again
    expect((await made.deployer.running())?.version).toBe('5.0.0');
    expect(
      events()
        .filter((e) => e.msg === 'update failed before the switch')
        .map((e) => e.permanent),
    ).toEqual([false, false, false, true]);
    await made.state.close();
  });
});

import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BuildError,
  DiskSpaceError,
  ImageMismatchError,
  ImageRemoveError,
  PullError,
} from '../../agent/errors.js';
import {
  DockerImageStore,
  type DockerImageStoreOptions,
} from '../../agent/image/docker-image-store.js';
import type { ProgressEvent, ReleaseToInstall } from '../../agent/image/image-store.js';
import { LABEL, MANAGED_BY, OCI } from '../../agent/labels.js';
import { captureLog } from '../helpers/capture-log.js';
import { docker } from '../helpers/docker-cli.js';
import { freePort } from '../helpers/free-port.js';
import { bcryptAvailable, type RegistryUser, TestRegistry } from '../helpers/registry.js';
import { tempDir } from '../helpers/temp-dir.js';

const NODE_IMAGE = process.env.OTA_NODE_IMAGE || 'local/node:20';
const ARM64_BASE = process.env.OTA_ARM64_BASE_IMAGE ?? '';
const SOURCE = 'https://example.invalid/weather.git';
const HAS_BCRYPT = bcryptAvailable();
const NO_BCRYPT = HAS_BCRYPT
  ? ''
  : ' (SKIPPED: neither htpasswd nor perl crypt(3) can make bcrypt)';
const NO_ARM64 = ARM64_BASE ? '' : ' (SKIPPED: OTA_ARM64_BASE_IMAGE is empty, see provision.sh)';

/** A small stand-in for Dockerfile.app: same build args and OCI labels, no npm, no tsc. */
const FIXTURE_DOCKERFILE = [
  'ARG NODE_IMAGE',
  'FROM $NODE_IMAGE',
  'ARG VERSION',
  'ARG REVISION',
  'ARG SOURCE',
  'LABEL org.opencontainers.image.revision=$REVISION org.opencontainers.image.version=$VERSION',
  'CMD ["node","-e","setInterval(()=>{},1000)"]',
].join('\n');

const suffix = randomUUID().slice(0, 8);
let serial = 0;
const engine = new Docker();

/** Image refs and containers this file made; removed after each test, pass or fail. */
const madeImages: string[] = [];
const madeContainers: string[] = [];

function release(commit = randomBytes(20).toString('hex')): ReleaseToInstall {
  const version = `0.0.${++serial}-test.${suffix}`;
  madeImages.push(`edge-ota/app:${version}`, `ota-test-${suffix}/app:${version}`);
  return { version, tag: `v${version}`, commit, source: SOURCE };
}

function store(overrides: Partial<DockerImageStoreOptions> = {}) {
  const capture = captureLog();
  const options: DockerImageStoreOptions = {
    platform: 'linux/amd64',
    repository: 'unused.invalid/weather',
    buildArgs: { NODE_IMAGE },
    minFreeBytes: 0,
    ...overrides,
  };
  return { store: new DockerImageStore(engine, options, capture.log), ...capture };
}

/** A build context as the agent gets it: a tar of a tree holding Dockerfile.app. */
async function contextTar(dockerfile: string): Promise<string> {
  const dir = tempDir();
  mkdirSync(join(dir, 'ctx'));
  writeFileSync(join(dir, 'ctx', 'Dockerfile.app'), dockerfile);
  await promisify(execFile)('tar', ['-C', join(dir, 'ctx'), '-cf', join(dir, 'ctx.tar'), '.']);
  return join(dir, 'ctx.tar');
}

/**
 * Builds the fixture with the CLI, pushes it as <registry>/<repository>:<version> and deletes
 * every local copy, so the store's pull really fetches it from the registry. Returns the image id.
 */
async function publish(
  registry: TestRegistry,
  repository: string,
  version: string,
  revision: string,
  auth?: RegistryUser,
): Promise<string> {
  const dir = tempDir();
  writeFileSync(join(dir, 'Dockerfile.app'), FIXTURE_DOCKERFILE);
  const local = `ota-test-fixture-${suffix}:${version}`;
  madeImages.push(local);
  await docker([
    'build',
    '-q',
    '-f',
    join(dir, 'Dockerfile.app'),
    '--build-arg',
    `NODE_IMAGE=${NODE_IMAGE}`,
    '--build-arg',
    `VERSION=${version}`,
    '--build-arg',
    `REVISION=${revision}`,
    '-t',
    local,
    dir,
  ]);
  const id = await docker(['image', 'inspect', '-f', '{{.Id}}', local]);
  await registry.push(local, repository, version, auth);
  await docker(['rmi', local]);
  return id;
}

async function imageExists(ref: string): Promise<boolean> {
  return docker(['image', 'inspect', ref]).then(
    () => true,
    () => false,
  );
}

async function labelsOf(ref: string): Promise<Record<string, string>> {
  return JSON.parse(await docker(['image', 'inspect', '-f', '{{json .Config.Labels}}', ref]));
}

afterEach(async () => {
  for (const c of madeContainers.splice(0)) await docker(['rm', '-f', c]).catch(() => undefined);
  for (const ref of madeImages.splice(0)) await docker(['rmi', ref]).catch(() => undefined);
});

describe('DockerImageStore on the real engine', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await TestRegistry.start();
  });

  afterAll(async () => {
    await registry?.stop();
  });

  it('builds a version labelled with version, commit, source, role and managed-by, tagged edge-ota/app:<version>', async () => {
    const { store: images } = store();
    const r = release();
    const events: ProgressEvent[] = [];
    const image = await images.build(r, await contextTar(FIXTURE_DOCKERFILE), (e) =>
      events.push(e),
    );

    expect(image).toMatchObject({
      ref: `edge-ota/app:${r.version}`,
      version: r.version,
      commit: r.commit,
      architecture: 'amd64',
    });
    expect(image.id).toMatch(/^sha256:/);
    const labels = await labelsOf(`edge-ota/app:${r.version}`);
    expect(labels).toMatchObject({
      [LABEL.managedBy]: MANAGED_BY,
      [LABEL.version]: r.version,
      [LABEL.commit]: r.commit,
      [LABEL.source]: SOURCE,
      [LABEL.role]: 'app',
      [OCI.revision]: r.commit,
      [OCI.version]: r.version,
    });
    expect(events[0]).toEqual({
      phase: 'build',
      step: expect.stringMatching(/^Step 1\/\d+ : ARG/),
    });
    expect(await images.find(r.version)).toEqual(image);
    expect((await images.list()).map((i) => i.id)).toContain(image.id);
  });

  it('rejects a failing build with BuildError naming the version and showing the failing output', async () => {
    const { store: images, events } = store();
    const r = release();
    const failing = `${FIXTURE_DOCKERFILE}\nRUN echo about-to-fail && exit 3\n`;
    const err = await images.build(r, await contextTar(failing)).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(BuildError);
    const build = err as BuildError;
    expect(build.version).toBe(r.version);
    expect(build.message).toContain(r.version);
    expect(build.reason).toMatch(/returned a non-zero code: 3/);
    expect(build.outputTail.join('\n')).toContain('about-to-fail');
    expect(build.message).toContain('about-to-fail');
    expect(await imageExists(`edge-ota/app:${r.version}`)).toBe(false);
    expect(events().filter((e) => e.msg === 'build failed')).toHaveLength(1);
    // The steps that succeeded (LABEL with this version, CMD) left no images behind.
    const leftovers = ['images', '-a', '-q', '--filter', `label=${OCI.version}=${r.version}`];
    expect(await docker(leftovers)).toBe('');
  });

  it('pulls an image whose revision is the commit, labels it and leaves no registry tag behind', async () => {
    const r = release();
    await publish(registry, 'weather', r.version, r.commit);
    const { store: images } = store({ repository: `${registry.address}/weather` });
    const events: ProgressEvent[] = [];
    const image = await images.pull(r, (e) => events.push(e));

    expect(image).toMatchObject({
      ref: `edge-ota/app:${r.version}`,
      version: r.version,
      commit: r.commit,
      architecture: 'amd64',
    });
    expect(await labelsOf(image.ref)).toMatchObject({
      [LABEL.managedBy]: MANAGED_BY,
      [LABEL.version]: r.version,
      [LABEL.commit]: r.commit,
      [LABEL.role]: 'app',
      [OCI.revision]: r.commit,
    });
    // The fixture's layers are the local base's, so only the manifest and config travel.
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.phase === 'pull')).toBe(true);
    expect(events.map((e) => e.phase === 'pull' && e.status)).toContain(
      `Status: Downloaded newer image for ${registry.address}/weather:${r.version}`,
    );
    expect(await imageExists(`${registry.address}/weather:${r.version}`)).toBe(false);
    expect(await docker(['images', '-q', `${registry.address}/weather`])).toBe('');
    expect(await images.find(r.version)).toEqual(image);
  });

  it('refuses a pulled image whose revision label is another commit, and keeps nothing of it', async () => {
    const r = release();
    const other = randomBytes(20).toString('hex');
    const id = await publish(registry, 'weather', r.version, other);
    const { store: images, events } = store({ repository: `${registry.address}/weather` });
    const err = await images.pull(r).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(ImageMismatchError);
    expect(err).toMatchObject({
      version: r.version,
      field: 'revision',
      expected: r.commit,
      actual: other,
    });
    expect(await imageExists(id)).toBe(false);
    expect(await imageExists(`${registry.address}/weather:${r.version}`)).toBe(false);
    expect(await images.find(r.version)).toBeUndefined();
    const refused = events().filter((e) => e.level === 50);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ field: 'revision', expected: r.commit, actual: other });
  });

  // Engine 20.10 pulls a single-platform image whatever platform is asked for (no "no matching
  // manifest" error), so it is the store's inspect that refuses it.
  it('refuses a pulled image built for another architecture', async () => {
    const r = release();
    const id = await publish(registry, 'weather', r.version, r.commit);
    const { store: images } = store({
      repository: `${registry.address}/weather`,
      platform: 'linux/arm64',
    });
    const err = await images.pull(r).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(ImageMismatchError);
    expect(err).toMatchObject({
      field: 'architecture',
      expected: 'linux/arm64',
      actual: 'linux/amd64',
    });
    expect(await imageExists(id)).toBe(false);
    expect(await images.find(r.version)).toBeUndefined();
  });

  it('maps a missing tag to PullError not-found and a dead registry to unreachable', async () => {
    const r = release();
    const missing = store({ repository: `${registry.address}/weather` }).store;
    // In pull mode the tag reaches the device before the release workflow has pushed its image
    // (minutes of buildx): the updater tries again at each poll for OTA_PULL_GRACE.
    await expect(missing.pull(r)).rejects.toMatchObject({
      name: 'PullError',
      kind: 'not-found',
      permanent: true, // for this pull: the updater waits OTA_PULL_GRACE for it (pull-grace.ts)
    });
    // Once it is pushed, the same version pulls.
    await publish(registry, 'weather', r.version, r.commit);
    await expect(missing.pull(r)).resolves.toMatchObject({ version: r.version, commit: r.commit });
    const dead = store({ repository: `127.0.0.1:${await freePort()}/weather` }).store;
    const err = await dead.pull(r).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PullError);
    expect(err).toMatchObject({ kind: 'unreachable', permanent: false });
  });

  it('lists, finds and removes only labelled images', async () => {
    const r = release();
    const { store: images } = store();
    const ours = await images.build(r, await contextTar(FIXTURE_DOCKERFILE));

    // The user's own image, even under the agent's repository name, is not the agent's.
    const userVersion = `9.9.9-user.${suffix}`;
    const userRefs = [`user/own-${suffix}:1`, `edge-ota/app:${userVersion}`];
    madeImages.push(...userRefs);
    const dir = tempDir();
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${NODE_IMAGE}\nCMD ["node"]\n`);
    await docker(['build', '-q', ...userRefs.flatMap((t) => ['-t', t]), dir]);
    const userId = await docker(['image', 'inspect', '-f', '{{.Id}}', userRefs[0] as string]);

    const listed = await images.list();
    expect(listed.map((i) => i.id)).toContain(ours.id);
    expect(listed.map((i) => i.id)).not.toContain(userId);
    expect(listed.every((i) => i.ref.startsWith('edge-ota/app:'))).toBe(true);
    expect(await images.find(userVersion)).toBeUndefined();
    await expect(images.remove(userVersion)).rejects.toMatchObject({
      name: 'ImageRemoveError',
      reason: 'not-managed',
    });
    for (const ref of userRefs) expect(await imageExists(ref)).toBe(true);

    await images.remove(r.version);
    expect(await imageExists(ours.ref)).toBe(false);
    expect(await images.find(r.version)).toBeUndefined();
    await images.remove(r.version); // already gone: nothing to do
  });

  it('lists newest first', async () => {
    const { store: images } = store();
    const first = await images.build(release(), await contextTar(FIXTURE_DOCKERFILE));
    const second = await images.build(release(), await contextTar(FIXTURE_DOCKERFILE));
    const ids = (await images.list()).map((i) => i.id);
    expect(ids.indexOf(second.id)).toBeLessThan(ids.indexOf(first.id));
  });

  it('does not remove an image a running container uses: the engine refuses, typed', async () => {
    const r = release();
    const { store: images } = store();
    const image = await images.build(r, await contextTar(FIXTURE_DOCKERFILE));
    const name = `ota-test-image-store-${suffix}-${serial}`;
    madeContainers.push(name);
    await docker(['run', '-d', '--name', name, '--label', 'ota-test=image-store', image.ref]);

    const err = await images.remove(r.version).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageRemoveError);
    expect(err).toMatchObject({ reason: 'in-use', version: r.version });
    expect(await imageExists(image.ref)).toBe(true);
  });

  it('refuses to build or pull with DiskSpaceError before anything starts', async () => {
    const { store: images, events } = store({
      minFreeBytes: 1e18,
      repository: `127.0.0.1:${await freePort()}/weather`,
    });
    const free = await images.freeBytes();
    expect(free).toBeGreaterThan(0);
    expect(Number.isFinite(free)).toBe(true);

    const r = release();
    const progress: ProgressEvent[] = [];
    // A context that does not exist: had the build started, this would be a BuildError.
    const err = await images
      .build(r, '/nonexistent/ctx.tar', (e) => progress.push(e))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskSpaceError);
    expect(err).toMatchObject({ required: 1e18 });
    expect((err as DiskSpaceError).free).toBeLessThan(1e18);
    expect((err as Error).message).toMatch(/GiB free, .* required/);
    // A dead registry: had the pull started, this would be a PullError.
    await expect(images.pull(r, (e) => progress.push(e))).rejects.toBeInstanceOf(DiskSpaceError);
    expect(progress).toEqual([]);
    // Measured where this engine, by its own `docker info`, keeps images (the test runs on the
    // host, where every path is visible): DockerRootDir on the classic store, containerd's
    // root on the containerd store.
    const root = await docker(['info', '--format', '{{.DockerRootDir}}']);
    const driverStatus = await docker(['info', '--format', '{{json .DriverStatus}}']);
    const containerdStore = driverStatus.includes('io.containerd.snapshotter.v1');
    // toEqual: an asymmetric matcher never passes toBe (Object.is), which only the modern
    // lane, where the containerd branch is taken, showed.
    expect((err as DiskSpaceError).path).toEqual(
      containerdStore ? expect.stringMatching(/containerd(\/daemon)?$/) : root,
    );
    expect(events().filter((e) => e.msg === 'disk-space check measures this path')).toEqual([
      expect.objectContaining({ imageStore: containerdStore ? 'containerd' : 'classic' }),
    ]);
    expect(events().some((e) => e.msg === 'building image' || e.msg === 'pulling image')).toBe(
      false,
    );
  });

  it('skips the disk check with one warning when the data path cannot be read', async () => {
    const { store: images, events } = store({ dataPath: '/nonexistent/docker-root' });
    expect(await images.freeBytes()).toBe(Number.POSITIVE_INFINITY);
    expect(await images.freeBytes()).toBe(Number.POSITIVE_INFINITY);
    expect(events().filter((e) => e.level === 40)).toHaveLength(1);
  });

  it.skipIf(!ARM64_BASE)(
    `builds for linux/arm64 under emulation and pulls it back${NO_ARM64}`,
    async () => {
      const r = release();
      const dockerfile = [
        'ARG NODE_IMAGE',
        `FROM ${ARM64_BASE}`,
        'ARG VERSION',
        'ARG REVISION',
        'ARG SOURCE',
        'RUN uname -m > /arch',
        'LABEL org.opencontainers.image.revision=$REVISION org.opencontainers.image.version=$VERSION',
      ].join('\n');
      const { store: images } = store({ platform: 'linux/arm64' });
      const built = await images.build(r, await contextTar(dockerfile));
      expect(built.architecture).toBe('arm64');
      expect(
        await docker(['run', '--rm', '--platform', 'linux/arm64', built.ref, 'cat', '/arch']),
      ).toBe('aarch64');

      // The same image through the registry: the relabelling build FROM it stays arm64.
      await registry.push(built.ref, 'weather-arm', r.version);
      const pulling = store({
        platform: 'linux/arm64',
        repository: `${registry.address}/weather-arm`,
        localRepository: `ota-test-${suffix}/app`,
      }).store;
      const pulled = await pulling.pull(r);
      expect(pulled).toMatchObject({
        ref: `ota-test-${suffix}/app:${r.version}`,
        architecture: 'arm64',
        commit: r.commit,
      });
    },
  );
});

describe.skipIf(!HAS_BCRYPT)(`with a registry that requires a password${NO_BCRYPT}`, () => {
  const user: RegistryUser = { user: 'device', password: `pw-${suffix}` };
  let secured: TestRegistry;

  beforeAll(async () => {
    secured = await TestRegistry.start({ htpasswd: user });
  });

  afterAll(async () => {
    await secured?.stop();
  });

  it('maps a wrong password to PullError auth and pulls with the right one', async () => {
    const r = release();
    await publish(secured, 'weather', r.version, r.commit, user);
    const repository = `${secured.address}/weather`;
    const auth = (password: string) => ({
      username: user.user,
      password,
      serveraddress: secured.address,
    });

    const wrong = store({ repository, registryAuth: auth('wrong') });
    const err = await wrong.store.pull(r).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PullError);
    expect(err).toMatchObject({ kind: 'auth', permanent: true });
    expect(wrong.lines.join('\n')).not.toContain('wrong');

    const right = store({ repository, registryAuth: auth(user.password) });
    const image = await right.store.pull(r);
    expect(image).toMatchObject({ version: r.version, commit: r.commit });
    expect(right.lines.join('\n')).not.toContain(user.password);
  });
});

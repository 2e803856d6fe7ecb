import { execFile, execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildError, ImageMismatchError } from '../../agent/errors.js';
import { DockerImageStore } from '../../agent/image/docker-image-store.js';
import type { ReleaseToInstall } from '../../agent/image/image-store.js';
import { OCI } from '../../agent/labels.js';
import { captureLog } from '../helpers/capture-log.js';
import { docker, REPO_ROOT } from '../helpers/docker-cli.js';
import { TestRegistry } from '../helpers/registry.js';
import { tempDirForSuite } from '../helpers/temp-dir.js';

// The release workflow's build (scripts/release-image.sh: buildx, linux/arm64 + linux/amd64,
// OCI labels, push) against a registry on loopback, then the agent's pull mode on it. Only the
// modern lane can do this: the classic image store holds one platform per tag and 20.10 has
// no buildx.
const run = promisify(execFile);
const NODE_IMAGE = process.env.OTA_NODE_IMAGE || 'local/node:20';
const ARM64_BASE = process.env.OTA_ARM64_BASE_IMAGE ?? '';
const suffix = randomUUID().slice(0, 8);
const LOCAL_REPO = `ota-test-release-${suffix}/app`;
const SOURCE = 'https://example.invalid/weather.git';

function modernLane(): string {
  try {
    execFileSync('docker', ['buildx', 'version'], { stdio: 'ignore' });
    const drivers = execFileSync('docker', ['info', '-f', '{{json .DriverStatus}}']).toString();
    if (!drivers.includes('io.containerd.snapshotter.v1'))
      return 'the engine uses the classic image store';
  } catch {
    return 'docker buildx is missing';
  }
  return ARM64_BASE ? '' : 'OTA_ARM64_BASE_IMAGE is empty';
}
const WHY_NOT = modernLane();
const SKIPPED = WHY_NOT
  ? ` (SKIPPED: ${WHY_NOT}; runs on the modern lane: scripts/engine-lane.sh use modern)`
  : '';

/** A small stand-in for Dockerfile.app with its build args and labels; one base per platform. */
const DOCKERFILE = [
  'ARG AMD64_BASE',
  'ARG ARM64_BASE',
  'FROM $AMD64_BASE AS base-amd64',
  'FROM $ARM64_BASE AS base-arm64',
  'FROM base-$TARGETARCH',
  'ARG VERSION',
  'ARG REVISION',
  'LABEL org.opencontainers.image.revision=$REVISION org.opencontainers.image.version=$VERSION',
  // Emulated on arm64: proves each platform's layers were built for it.
  'RUN uname -m > /arch',
].join('\n');

describe.skipIf(WHY_NOT)(
  `the release workflow's multi-platform image, pulled by the agent${SKIPPED}`,
  () => {
    const dir = tempDirForSuite('ota-release-');
    const engine = new Docker();
    let registry: TestRegistry;
    const commit = randomBytes(20).toString('hex');
    const version = `1.2.0-rel.${suffix}`;
    const release: ReleaseToInstall = { version, tag: `v${version}`, commit, source: SOURCE };
    let pushed = '';

    beforeAll(async () => {
      registry = await TestRegistry.start();
      writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
      const { stdout } = await run(
        'bash',
        [
          join(REPO_ROOT, 'scripts/release-image.sh'),
          `${registry.address}/weather`,
          `v${version}`,
          commit,
        ],
        {
          cwd: REPO_ROOT,
          timeout: 600_000,
          env: {
            ...process.env,
            DOCKERFILE: join(dir, 'Dockerfile'),
            CONTEXT: dir,
            BUILD_ARGS: `AMD64_BASE=${NODE_IMAGE},ARM64_BASE=${ARM64_BASE}`,
          },
        },
      );
      pushed = /^IMAGE=(.+)$/m.exec(stdout)?.[1] ?? '';
    });

    afterAll(async () => {
      for (const ref of [pushed, `${LOCAL_REPO}:${version}`]) {
        if (ref) await docker(['rmi', ref]).catch(() => undefined);
      }
      await registry?.stop();
    });

    const store = (platform: string) => {
      const capture = captureLog();
      return new DockerImageStore(
        engine,
        {
          platform,
          repository: `${registry.address}/weather`,
          localRepository: LOCAL_REPO,
          buildArgs: {},
          minFreeBytes: 0,
        },
        capture.log,
      );
    };

    it('pushes one image index holding linux/arm64 and linux/amd64, tagged with the version', async () => {
      expect(pushed).toBe(`${registry.address}/weather:${version}`);
      const res = await fetch(`http://${registry.address}/v2/weather/manifests/${version}`, {
        headers: {
          accept:
            'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json',
        },
      });
      expect(res.status).toBe(200);
      const index = (await res.json()) as {
        manifests: { platform: { os: string; architecture: string } }[];
      };
      const platforms = index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`);
      expect(platforms.sort()).toEqual(['linux/amd64', 'linux/arm64']);
      // The pushed tag must not satisfy the agent's pull from the local store.
      await docker(['rmi', pushed]).catch(() => undefined);
    });

    // A device pulls its own platform: a Pi linux/arm64, this x86 machine linux/amd64.
    it('the agent pulls the platform of its engine, verifies revision and platform, and runs it', async () => {
      const image = await store('linux/amd64').pull(release);
      expect(image).toMatchObject({
        ref: `${LOCAL_REPO}:${version}`,
        commit,
        architecture: 'amd64',
      });
      const labels = JSON.parse(
        await docker(['image', 'inspect', '-f', '{{json .Config.Labels}}', image.ref]),
      );
      expect(labels).toMatchObject({ [OCI.revision]: commit, [OCI.version]: version });
      expect(await docker(['run', '--rm', image.ref, 'cat', '/arch'])).toBe('x86_64');
      await docker(['rmi', image.ref]);
    });

    // Found by this test on Docker 26.1 with the containerd store: the pull of the other
    // platform works, but the agent's relabelling build (classic builder, FROM the pulled image)
    // looks for the engine's own platform in the index, which was not pulled. A Pi pulls its own
    // platform and is not affected; an emulated device (OTA_PLATFORM not the engine's) is.
    // Recorded so that a fix, or an engine that behaves, shows up as this test failing.
    it('on the containerd store, a pulled image of another platform cannot be relabelled (known)', async () => {
      const err = await store('linux/arm64')
        .pull(release)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BuildError);
      expect((err as BuildError).reason).toMatch(/content digest sha256:[0-9a-f]+: not found/);
      expect(await docker(['images', '-q', `${LOCAL_REPO}:${version}`])).toBe('');
    });

    it('refuses the image for a tag that points at another commit', async () => {
      const moved = { ...release, commit: randomBytes(20).toString('hex') };
      const err = await store('linux/arm64')
        .pull(moved)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ImageMismatchError);
      expect(err).toMatchObject({ field: 'revision', expected: moved.commit, actual: commit });
      expect(await docker(['images', '-q', `${LOCAL_REPO}:${version}`])).toBe('');
    });
  },
);

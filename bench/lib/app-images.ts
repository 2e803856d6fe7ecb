// The real weather app image for the rollback bench, obtained the agent's ways (DockerImageStore
// build from a tar of the tree, or pull) and the user's way (`docker build --no-cache`).
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { DockerImageStore } from '../../agent/image/docker-image-store.js';
import type { ProgressEvent, ReleaseToInstall } from '../../agent/image/image-store.js';
import type { AgentLogger } from '../../agent/log.js';
import { baseImageArgs, docker } from '../../test/helpers/docker-cli.js';
import { REPO_ROOT } from './bench-env.js';

const run = promisify(execFile);
export const SOURCE = 'https://example.invalid/weather.git';

export interface AppImages {
  readonly store: DockerImageStore;
  /** The commit the context was made from: every image's revision label. */
  readonly commit: string;
  /** The build context as the agent gets it: a tar of the commit's tracked files. */
  readonly contextTar: string;
  /** The same files unpacked, for the docker CLI. */
  readonly tree: string;
  release(version: string): ReleaseToInstall;
}

/**
 * A tar of HEAD's tracked files (`git archive`: the files `git ls-files` lists, as committed),
 * so the revision label is true even while someone edits the working tree.
 */
export async function appImages(
  dir: string,
  localRepository: string,
  registryRepository: string,
  log: AgentLogger,
): Promise<AppImages> {
  const commit = (await run('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT })).stdout.trim();
  const contextTar = join(dir, 'context.tar');
  await run('git', ['archive', '--format=tar', '-o', contextTar, commit], { cwd: REPO_ROOT });
  const tree = join(dir, 'tree');
  mkdirSync(tree);
  await run('tar', ['-xf', contextTar, '-C', tree]);
  const store = new DockerImageStore(
    new Docker(),
    {
      platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
      repository: registryRepository,
      localRepository,
      buildArgs: {
        NODE_IMAGE: process.env.OTA_NODE_IMAGE ?? 'node:20-bookworm-slim',
        NODE_BUILD_IMAGE: process.env.OTA_NODE_BUILD_IMAGE ?? 'node:20-bookworm',
      },
      minFreeBytes: 0,
    },
    log,
  );
  const release = (version: string) => ({ version, tag: `v${version}`, commit, source: SOURCE });
  return { store, commit, contextTar, tree, release };
}

/** What a pull fetched: layers downloaded vs already present, and bytes downloaded. */
export function pullCounter() {
  const fetched = new Map<string, number>();
  const present = new Set<string>();
  const onProgress = (e: ProgressEvent) => {
    if (e.phase !== 'pull' || !e.layer) return;
    if (e.status === 'Already exists') present.add(e.layer);
    if (e.status === 'Downloading') fetched.set(e.layer, e.total ?? 0);
  };
  const summary = () => {
    const bytes = [...fetched.values()].reduce((a, b) => a + b, 0);
    const layers = fetched.size + present.size;
    return `${fetched.size} of ${layers} layers fetched, ${(bytes / 1024 / 1024).toFixed(1)} MB compressed`;
  };
  return { onProgress, summary };
}

/**
 * What a user without the agent would do to get a version back from source: a plain
 * `docker build --no-cache` of the same tree. Its image and every intermediate image it made
 * are removed afterwards (never a tagged one: the first step's image is the base).
 */
export async function buildNoCache(images: AppImages, version: string, tag: string) {
  let output = '';
  const start = performance.now();
  try {
    output = await docker([
      'build',
      '--no-cache',
      '-f',
      'Dockerfile.app',
      ...baseImageArgs(),
      '--build-arg',
      `VERSION=${version}`,
      '--build-arg',
      `REVISION=${images.commit}`,
      '--build-arg',
      `SOURCE=${SOURCE}`,
      '-t',
      tag,
      images.tree,
    ]);
    return performance.now() - start;
  } catch (err) {
    output = (err as { stdout?: string }).stdout ?? '';
    throw err;
  } finally {
    await docker(['rmi', tag]).catch(() => undefined);
    const made = [...output.matchAll(/^ ---> ([0-9a-f]{12})$/gm)].map((m) => m[1] as string);
    for (const id of made.reverse()) await removeUntagged(id);
  }
}

/**
 * The build stage's last image, the engine's cache of `npm ci` and `tsc` that the store's builds
 * made or reused: a fully cached `--target build` build prints its id.
 */
export async function buildStageImage(images: AppImages): Promise<string> {
  const args = ['build', '-q', '--target', 'build', '-f', 'Dockerfile.app', ...baseImageArgs()];
  return docker([...args, images.tree]);
}

export async function imageIds(): Promise<Set<string>> {
  return new Set((await docker(['images', '-a', '-q', '--no-trunc'])).split('\n').filter(Boolean));
}

/**
 * Removes an image only if nothing tags it; never forced, so one in use or with children stays.
 * True if it was removed.
 */
export async function removeUntagged(id: string): Promise<boolean> {
  const tags = await docker(['image', 'inspect', '-f', '{{len .RepoTags}}', id]).catch(() => '');
  if (tags !== '0') return false;
  return docker(['rmi', id]).then(
    () => true,
    () => false,
  );
}

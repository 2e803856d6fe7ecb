import type Docker from 'dockerode';
import { LABEL } from '../labels.js';
import type { AgentLogger } from '../log.js';
import { statusOf } from './engine-errors.js';

/** A tag name the engine accepts: the stage label's value becomes one. */
const TAG_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * The builder stages a build leaves behind, kept as build cache without leaving anything
 * dangling.
 *
 * The classic builder leaves each multi-stage build's builder stages as untagged (dangling)
 * images: for the app about 1 GB of compilers and dev dependencies, and the layers of `npm ci`
 * and `npm prune`, which the next build's cache needs. Dockerfile.app ends each builder stage
 * in a label `io.edge-ota.stage=<stage>`. For each stage, the newest such image is tagged
 * `<cacheRepository>:<stage>` (so it is no longer dangling and the cache survives), and the
 * older ones, which only pin superseded layers, are removed.
 *
 * Only images with the stage label are touched, and of those only the ones with no tag or with
 * only this cache's tag: a stage image someone tagged themselves is theirs. Never forced: an
 * image that another one builds on stays.
 */
export async function keepStageCache(
  docker: Docker,
  log: AgentLogger,
  cacheRepository: string,
): Promise<number> {
  const images = await docker.listImages({ filters: { label: [LABEL.stage] } });
  const ours = images.filter((i) =>
    (i.RepoTags ?? []).every((t) => t === '<none>:<none>' || t.startsWith(`${cacheRepository}:`)),
  );
  const byStage = new Map<string, Docker.ImageInfo[]>();
  for (const image of ours) {
    const stage = image.Labels?.[LABEL.stage] ?? '';
    if (!TAG_NAME.test(stage)) continue;
    byStage.set(stage, [...(byStage.get(stage) ?? []), image]);
  }
  let removed = 0;
  for (const [stage, stageImages] of byStage) {
    const tag = `${cacheRepository}:${stage}`;
    // A build whose stage was a cache hit reuses the tagged image, which is then the newest.
    const [newest, ...older] = stageImages.sort((a, b) => b.Created - a.Created);
    if (!newest) continue;
    if (!newest.RepoTags?.includes(tag)) {
      await docker.getImage(newest.Id).tag({ repo: cacheRepository, tag: stage });
      log.debug({ stage, id: newest.Id, tag }, 'tagged the newest builder stage as build cache');
    }
    for (const image of older) {
      if (await removeStage(docker, log, image)) removed += 1;
    }
  }
  if (removed > 0)
    log.info({ removed, stages: [...byStage.keys()] }, 'pruned builder-stage images');
  return removed;
}

/**
 * Removes a superseded stage image by id (its cache tag, if it had one, has moved to the
 * newest): the engine then deletes its untagged parents too, unless another image builds on
 * them.
 */
async function removeStage(
  docker: Docker,
  log: AgentLogger,
  image: Docker.ImageInfo,
): Promise<boolean> {
  try {
    await docker.getImage(image.Id).remove();
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    log.debug({ err, id: image.Id }, 'kept a builder-stage image another image uses');
    return false;
  }
}

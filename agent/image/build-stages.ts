import type Docker from 'dockerode';
import { LABEL } from '../labels.js';
import type { AgentLogger } from '../log.js';

/**
 * A multi-stage build on the classic builder leaves its builder stage as an untagged image
 * (about 1 GB for the app: compilers and dev dependencies). Dockerfile.app labels that stage
 * `io.edge-ota.stage=build`; only untagged images with that label are touched. The newest is
 * kept: its layers are the next build's cache (npm ci is skipped when the lock file did not
 * change); older ones only pin superseded dependency layers. Never forced: an image another
 * one builds on stays.
 */
export async function pruneBuildStages(
  docker: Docker,
  log: AgentLogger,
  keep = 1,
): Promise<number> {
  const stages = await docker.listImages({
    filters: { label: [`${LABEL.stage}=build`], dangling: ['true'] },
  });
  const old = stages.sort((a, b) => b.Created - a.Created).slice(keep);
  let removed = 0;
  for (const image of old) {
    try {
      await docker.getImage(image.Id).remove();
      removed += 1;
    } catch (err) {
      log.debug({ err, id: image.Id }, 'kept a builder-stage image another image uses');
    }
  }
  if (removed > 0)
    log.info({ removed, kept: Math.min(keep, stages.length) }, 'pruned builder-stage images');
  return removed;
}

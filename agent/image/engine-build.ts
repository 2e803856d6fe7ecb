import type Docker from 'dockerode';
import { BuildError } from '../errors.js';
import type { AgentLogger } from '../log.js';
import { messageOf } from './engine-errors.js';
import type { ProgressEvent } from './image-store.js';
import { follow } from './progress-stream.js';

const OUTPUT_TAIL = 25;

export interface BuildOptions {
  readonly t: string;
  readonly dockerfile: string;
  readonly buildargs: Record<string, string>;
  readonly labels: Record<string, string>;
  readonly onProgress?: ((e: ProgressEvent) => void) | undefined;
}

/**
 * Runs one build on the engine (the classic builder, through the /build API) to its end for
 * `platform`; an error in the stream rejects with a BuildError carrying the output's last lines.
 */
export async function runBuild(
  docker: Docker,
  log: AgentLogger,
  platform: string,
  version: string,
  context: NodeJS.ReadableStream,
  options: BuildOptions,
): Promise<void> {
  const { onProgress, ...buildOptions } = options;
  const tail: string[] = [];
  let failure: string | undefined;
  let lastStepImage: string | undefined;
  try {
    const stream = await docker.buildImage(context, {
      ...buildOptions,
      platform,
      rm: true,
      forcerm: true,
    });
    failure = await follow(docker, stream, (e) => {
      for (const line of e.stream?.split('\n') ?? []) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > OUTPUT_TAIL) tail.shift();
        if (/^Step \d+\/\d+ :/.test(line)) onProgress?.({ phase: 'build', step: line });
        lastStepImage = /^ ---> ([0-9a-f]{12,64})$/.exec(line)?.[1] ?? lastStepImage;
      }
    });
  } catch (err) {
    failure = messageOf(err);
  }
  if (failure === undefined) return;
  log.error({ version, reason: failure, output: tail.slice(-10) }, 'build failed');
  if (lastStepImage) await dropLeftover(docker, log, lastStepImage);
  throw new BuildError(version, failure, tail);
}

/**
 * A failed build leaves the images of its successful steps behind, untagged; on a device they
 * would pile up with every failed version. Removed only while untagged (the first step's image
 * is the tagged base) and never forced: the engine keeps any that another image builds on.
 */
async function dropLeftover(docker: Docker, log: AgentLogger, id: string): Promise<void> {
  const info = await docker
    .getImage(id)
    .inspect()
    .catch(() => undefined);
  if (!info || info.RepoTags?.length || info.RepoDigests?.length) return;
  await docker
    .getImage(info.Id)
    .remove()
    .then(
      () => log.debug({ id: info.Id }, "removed the failed build's leftover images"),
      (err) => log.debug({ err, id: info.Id }, "kept the failed build's leftover images"),
    );
}

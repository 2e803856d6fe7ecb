import { docker, REPO_ROOT } from './docker-cli.js';

/** The real arm64 Node 20 base (scripts/arm64-node.sh), or '' where it is not provisioned. */
export const ARM64_NODE_IMAGE = process.env.OTA_ARM64_NODE_IMAGE ?? '';

export const NO_ARM64_NODE = ARM64_NODE_IMAGE
  ? ''
  : ' (SKIPPED: OTA_ARM64_NODE_IMAGE is empty: run scripts/test-arm64.sh, which provisions it)';

export interface Arm64Build {
  readonly ref: string;
  readonly ms: number;
}

/**
 * Builds one of the project's real Dockerfiles for linux/arm64 under qemu, FROM the arm64 base
 * for both stages (it carries a compiler, git and ssh-keygen), labelled so tests can find and
 * remove what they made. `noCache` measures a whole build, as a Pi's first one would be.
 */
export async function buildArm64(
  dockerfile: 'Dockerfile.app' | 'Dockerfile.agent',
  ref: string,
  options: { version: string; revision: string; noCache?: boolean },
): Promise<Arm64Build> {
  const started = performance.now();
  await docker(
    [
      'build',
      '-q',
      '--platform',
      'linux/arm64',
      ...(options.noCache ? ['--no-cache'] : []),
      '-f',
      dockerfile,
      '--build-arg',
      `NODE_BUILD_IMAGE=${ARM64_NODE_IMAGE}`,
      '--build-arg',
      `NODE_IMAGE=${ARM64_NODE_IMAGE}`,
      '--build-arg',
      `VERSION=${options.version}`,
      '--build-arg',
      `REVISION=${options.revision}`,
      '--label',
      'ota-test=arm64',
      '-t',
      ref,
      REPO_ROOT,
    ],
    // better-sqlite3 compiles under emulation: tens of minutes on 2 busy cores.
    3_600_000,
  );
  return { ref, ms: performance.now() - started };
}

export async function architectureOf(ref: string): Promise<string> {
  return docker(['image', 'inspect', '-f', '{{.Os}}/{{.Architecture}}', ref]);
}

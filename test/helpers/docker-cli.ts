import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** The project's top folder, from the test sources or from their build under dist/ (benches). */
export const REPO_ROOT = ((): string => {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'compose.yaml')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

/** The real docker CLI against the real engine; returns trimmed stdout. */
export async function docker(args: string[], timeoutMs = 600_000): Promise<string> {
  const { stdout } = await run('docker', args, {
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
  });
  return stdout.trim();
}

/** Build args that point Dockerfiles at the base images provisioned for this machine. */
export function baseImageArgs(): string[] {
  const args: string[] = [];
  if (process.env.OTA_NODE_IMAGE)
    args.push('--build-arg', `NODE_IMAGE=${process.env.OTA_NODE_IMAGE}`);
  if (process.env.OTA_NODE_BUILD_IMAGE) {
    args.push('--build-arg', `NODE_BUILD_IMAGE=${process.env.OTA_NODE_BUILD_IMAGE}`);
  }
  return args;
}

export async function waitForHealth(
  container: string,
  want: 'healthy' | 'unhealthy',
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const status = await docker(['inspect', '-f', '{{.State.Health.Status}}', container]);
    if (status === want) return Date.now() - started;
    if (Date.now() - started > timeoutMs) {
      const logs = await docker(['logs', '--tail', '20', container]).catch(() => '');
      throw new Error(`${container} is ${status}, not ${want}, after ${timeoutMs} ms\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

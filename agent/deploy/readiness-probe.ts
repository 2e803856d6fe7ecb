import type Docker from 'dockerode';

/** The command of a container's HEALTHCHECK as an exec argv, or undefined if it has none. */
export function healthCommand(test: readonly string[] | undefined): string[] | undefined {
  if (!test || test.length === 0) return undefined;
  const [kind, ...rest] = test;
  if (kind === 'CMD' && rest.length > 0) return rest;
  if (kind === 'CMD-SHELL' && rest.length > 0) return ['/bin/sh', '-c', rest.join(' ')];
  return undefined; // NONE, or an empty test: the container has no check to run
}

const NS_PER_MS = 1_000_000;

/**
 * Runs a container's own HEALTHCHECK command once inside it, as the engine does, and says
 * whether it passed (exit 0 within the check's timeout). The gate passes on the first pass, as
 * the engine turns a container healthy on its first passing check: the rule is the same, only
 * sooner than the engine's interval (5 s for the app; the start interval that would shorten
 * it needs Engine 25, the classic lane is 20.10). A failed or unanswered probe proves nothing
 * during the start period, exactly as for the engine.
 */
export async function probeOnce(docker: Docker, id: string): Promise<boolean> {
  const container = docker.getContainer(id);
  const info = await container.inspect();
  if (!info.State.Running) return false;
  const check = (info.Config as { Healthcheck?: { Test?: string[]; Timeout?: number } })
    .Healthcheck;
  const cmd = healthCommand(check?.Test);
  if (!cmd) return false;
  const timeoutMs = check?.Timeout ? check.Timeout / NS_PER_MS : 30_000;
  const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const finished = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      stream.destroy();
      resolve(false);
    }, timeoutMs);
    stream.on('data', () => undefined); // drain the check's output
    stream.on('error', () => resolve(false));
    stream.on('end', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (!finished) return false;
  const result = await exec.inspect();
  return !result.Running && result.ExitCode === 0;
}

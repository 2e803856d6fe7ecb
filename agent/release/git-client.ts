import { type SimpleGit, simpleGit } from 'simple-git';

/**
 * The git client factory main.ts hands to GitReleaseSource. Config reaches git through
 * GIT_CONFIG_COUNT/KEY/VALUE variables (so the token header never appears in argv), which
 * simple-git blocks unless allowed; the values are the agent's own, never user input.
 */
export function gitClient(timeoutMs: number) {
  return (baseDir: string, env: Record<string, string>): SimpleGit =>
    simpleGit({
      baseDir,
      maxConcurrentProcesses: 2,
      timeout: { block: timeoutMs },
      unsafe: { allowUnsafeConfigEnvCount: true },
    }).env(env);
}

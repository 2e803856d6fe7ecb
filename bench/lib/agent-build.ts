// Which agent a bench runs: this tree's build (dist/agent/main.js), or the agent as it was at
// another commit (built into a temporary directory), each with the node flags its own
// Dockerfile.agent gives it in CMD, so a bench measures what the image would run.
import { execFile } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { agentNodeFlags, nodeArgsOf } from '../../test/helpers/agent-node-flags.js';

const run = promisify(execFile);

export interface AgentBuild {
  /** What the bench prints: "this tree" or the commit. */
  readonly label: string;
  readonly mainJs: string;
  readonly nodeArgs: string[];
  /** Environment variables set for this agent only (e.g. MALLOC_ARENA_MAX=2). */
  readonly env?: Readonly<Record<string, string>>;
}

export function currentBuild(repoRoot: string): AgentBuild {
  return {
    label: 'this tree',
    mainJs: join(repoRoot, 'dist/agent/main.js'),
    nodeArgs: agentNodeFlags(repoRoot),
  };
}

/** Builds the agent of `rev` (its agent/, common/ and tsconfigs) with this tree's node_modules. */
export async function buildAtRevision(repoRoot: string, rev: string, dir: string) {
  const git = (...args: string[]) =>
    run('git', ['-C', repoRoot, ...args], { maxBuffer: 64 * 1024 * 1024 });
  const commit = (await git('rev-parse', '--short', rev)).stdout.trim();
  mkdirSync(dir, { recursive: true });
  const files = ['agent', 'common', 'tsconfig.json', 'tsconfig.agent.json', 'package.json'];
  const { stdout: list } = await git('ls-tree', '-r', '--name-only', commit, ...files);
  for (const path of list.split('\n').filter(Boolean)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    const { stdout } = await git('show', `${commit}:${path}`);
    writeFileSync(join(dir, path), stdout);
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  await run(process.execPath, [
    join(repoRoot, 'node_modules/typescript/bin/tsc'),
    '-p',
    join(dir, 'tsconfig.agent.json'),
  ]);
  const dockerfile = (await git('show', `${commit}:Dockerfile.agent`)).stdout;
  return {
    label: commit,
    mainJs: join(dir, 'dist/agent/main.js'),
    nodeArgs: nodeArgsOf(dockerfile),
  } satisfies AgentBuild;
}

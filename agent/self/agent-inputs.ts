import { createHash } from 'node:crypto';

/**
 * What the agent's image is made of (Dockerfile.agent copies these and nothing else): a release
 * changes the agent when the git objects of any of them differ from those the running agent was
 * built from. compose.yaml is not among them: a self-update keeps the container settings of the
 * agent it replaces (README, "Updating the agent").
 */
export const AGENT_INPUTS = [
  'Dockerfile.agent',
  'agent',
  'common',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.agent.json',
] as const;

/**
 * The agent fingerprint of a tree, from `git ls-tree <commit> -- <AGENT_INPUTS>`: lines of
 * `<mode> <type> <object>\t<path>`. Undefined when the tree has no Dockerfile.agent: such a
 * release carries no agent (an app-only repository), and the agent never updates itself to it.
 */
export function fingerprintOf(lsTree: string): string | undefined {
  const entries: string[] = [];
  for (const line of lsTree.split('\n')) {
    const [meta, path] = line.split('\t');
    const object = meta?.trim().split(/\s+/)[2];
    if (!path || !object) continue;
    entries.push(`${path} ${object}`);
  }
  if (!entries.some((e) => e.startsWith('Dockerfile.agent '))) return undefined;
  entries.sort();
  return createHash('sha256').update(entries.join('\n')).digest('hex').slice(0, 16);
}

/** Where the running agent's fingerprint came from, for `ota status` and the log. */
export type InputsOrigin = 'image' | 'checkout' | 'unknown';

/**
 * Whether a release's agent should replace the running one. An agent of unknown origin (built
 * by hand, no checkout mounted) takes the first release that carries an agent: a fleet installed
 * from anything converges on the released agent.
 */
export function agentChanges(running: string | undefined, release: string | undefined): boolean {
  return release !== undefined && running !== release;
}

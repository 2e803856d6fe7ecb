import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The flags between "node" and the script in the CMD of a Dockerfile.agent. */
export function nodeArgsOf(dockerfile: string): string[] {
  const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
  if (!cmd) throw new Error('Dockerfile.agent has no CMD in exec form');
  const argv = JSON.parse(cmd) as string[];
  if (argv[0] !== 'node') throw new Error(`Dockerfile.agent CMD does not run node: ${cmd}`);
  return argv.slice(1).filter((a) => a.startsWith('-'));
}

/** The node flags the agent's image runs it with (this tree's Dockerfile.agent). */
export function agentNodeFlags(repoRoot: string): string[] {
  return nodeArgsOf(readFileSync(join(repoRoot, 'Dockerfile.agent'), 'utf8'));
}

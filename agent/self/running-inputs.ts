import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SimpleGit } from 'simple-git';
import { AGENT_INPUTS, fingerprintOf, type InputsOrigin } from './agent-inputs.js';

/**
 * What the running agent was built from. An agent image the agent built carries its
 * fingerprint as a label; an agent compose built (`docker compose up -d --build`) is taken to
 * be the HEAD of the checkout compose ran in, which compose.yaml mounts read-only; without
 * either it is unknown, and the first release that carries an agent replaces it.
 */
export async function runningInputs(
  label: string | undefined,
  checkoutGitDir: string,
  git: (baseDir: string, env: Record<string, string>) => SimpleGit,
): Promise<{ inputs: string | undefined; origin: InputsOrigin }> {
  if (label) return { inputs: label, origin: 'image' };
  if (!existsSync(join(checkoutGitDir, 'HEAD'))) return { inputs: undefined, origin: 'unknown' };
  try {
    // The checkout belongs to the host's user, not root: git would refuse it as unsafe.
    const out = await git('/', {
      GIT_DIR: checkoutGitDir,
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'safe.directory',
      GIT_CONFIG_VALUE_0: '*',
    }).raw(['ls-tree', 'HEAD', '--', ...AGENT_INPUTS]);
    const inputs = fingerprintOf(out);
    return inputs ? { inputs, origin: 'checkout' } : { inputs: undefined, origin: 'unknown' };
  } catch {
    return { inputs: undefined, origin: 'unknown' };
  }
}

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { AgentLogger } from '../log.js';

/** The steps of a hand-over where a test may stop an agent to kill it there. */
export type PauseStep =
  | 'built'
  | 'candidate-created'
  | 'candidate-started'
  | 'lease-passed'
  | 'took-lead'
  | 'predecessor-removed';

export type Pause = (step: PauseStep) => Promise<void>;

/**
 * Test hook (OTA_TEST_PAUSE_FILE; compose.yaml never sets it): when the file's first line names
 * this step, the line is removed, `<file>.paused` says which step, and the agent waits there
 * for ever, for the test to SIGKILL it. Without the variable, a no-op.
 */
export function pauseHook(file: string | undefined, log: AgentLogger): Pause {
  if (!file) return async () => undefined;
  return async (step) => {
    if (!existsSync(file)) return;
    const [first, ...rest] = readFileSync(file, 'utf8').split('\n');
    if (first?.trim() !== step) return;
    writeFileSync(file, rest.join('\n'));
    writeFileSync(`${file}.paused`, `${step}\n`);
    log.warn({ step }, 'test pause: waiting to be killed');
    await new Promise(() => undefined);
  };
}

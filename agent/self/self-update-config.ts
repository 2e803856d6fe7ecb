import { dirname } from 'node:path';
import { envReader } from '../../common/env-reader.js';

export interface SelfUpdateConfig {
  /** OTA_SELF_UPDATE: replace the agent with a release's agent when the release changes it. */
  readonly enabled: boolean;
  /** OTA_AGENT_HANDOVER_TIMEOUT: how long the new agent has to be ready, or it is removed. */
  readonly handoverTimeoutMs: number;
  /** OTA_AGENT_BASE_IMAGE: NODE_IMAGE for the agent's own builds (else OTA_BUILD_ARGS' one). */
  readonly agentBaseImage: string | undefined;
  /** The clone of the repository compose was run from (its HEAD: what an unlabelled agent is). */
  readonly checkoutGitDir: string;
  /**
   * OTA_TEST_PAUSE_FILE: test hook, never set by compose.yaml. The agent stops at the hand-over
   * step named on the file's first line (and removes the line), so a test can kill it there.
   */
  readonly testPauseFile: string | undefined;
}

export function loadSelfUpdateConfig(env: Record<string, string | undefined>): SelfUpdateConfig {
  const read = envReader(env);
  return {
    enabled: read.bool('OTA_SELF_UPDATE', true),
    handoverTimeoutMs: read.duration('OTA_AGENT_HANDOVER_TIMEOUT', 300_000, 30_000, 3_600_000),
    agentBaseImage: read.optional('OTA_AGENT_BASE_IMAGE'),
    checkoutGitDir: dirname(read.string('OTA_CHECKOUT_GIT_CONFIG', '/etc/ota/checkout.git/config')),
    testPauseFile: read.optional('OTA_TEST_PAUSE_FILE'),
  };
}

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envReader } from '../app/env-reader.js';
import { ConfigError } from '../app/errors.js';

export interface AgentConfig {
  readonly repoUrl: string;
  /** Reads the token at each use: from OTA_REPO_TOKEN_FILE (preferred) or OTA_REPO_TOKEN. */
  readonly token: () => string | undefined;
  readonly stateDir: string;
  readonly pollIntervalMs: number;
  readonly pollJitter: number;
  readonly sweepIntervalMs: number;
  readonly gitTimeoutMs: number;
  readonly channel: string;
  readonly requireSigned: boolean;
  readonly allowedSignersFile: string | undefined;
  readonly acceptMovedTags: boolean;
  readonly logLevel: string;
}

/** A token file that vanished or cannot be read gives no token: the server then says 401. */
function readToken(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

const CHANNEL = /^[a-z][a-z0-9-]{0,31}$/;

/** Loads and validates the agent's settings once; errors name the variable. */
export function loadAgentConfig(
  env: Record<string, string | undefined> = process.env,
): AgentConfig {
  const read = envReader(env);
  const repoUrl = read.optional('OTA_REPO_URL');
  if (!repoUrl)
    throw new ConfigError('OTA_REPO_URL', 'the git URL of the app repository', undefined);
  let parsed: URL;
  try {
    parsed = new URL(repoUrl);
  } catch {
    throw new ConfigError(
      'OTA_REPO_URL',
      'an http(s) URL such as https://github.com/owner/app.git',
      repoUrl,
    );
  }
  if (!['https:', 'http:', 'file:'].includes(parsed.protocol)) {
    throw new ConfigError(
      'OTA_REPO_URL',
      'an http(s) URL such as https://github.com/owner/app.git',
      repoUrl,
    );
  }
  if (parsed.username || parsed.password) {
    // Never echo the value: it holds a credential.
    throw new ConfigError(
      'OTA_REPO_URL',
      'a URL without credentials (put the token in OTA_REPO_TOKEN_FILE)',
      `${parsed.protocol}//***@${parsed.host}${parsed.pathname}`,
    );
  }

  const tokenFile = read.optional('OTA_REPO_TOKEN_FILE');
  if (tokenFile && !existsSync(tokenFile)) {
    throw new ConfigError('OTA_REPO_TOKEN_FILE', 'a readable file holding the token', tokenFile);
  }
  const requireSigned = read.bool('OTA_REQUIRE_SIGNED', false);
  const allowedSignersFile = read.optional('OTA_ALLOWED_SIGNERS_FILE');
  if (requireSigned && (!allowedSignersFile || !existsSync(allowedSignersFile))) {
    throw new ConfigError(
      'OTA_ALLOWED_SIGNERS_FILE',
      'an existing allowed-signers file when OTA_REQUIRE_SIGNED=true',
      allowedSignersFile,
    );
  }
  const channel = read.string('OTA_CHANNEL', 'stable');
  if (!CHANNEL.test(channel)) {
    throw new ConfigError('OTA_CHANNEL', 'stable, or a pre-release name such as beta', channel);
  }
  const jitterPct = read.int('OTA_POLL_JITTER_PERCENT', 20, 0, 90);
  const stateDir = read.string('OTA_STATE_DIR', '/var/lib/ota');

  return Object.freeze({
    repoUrl,
    token: () => (tokenFile ? readToken(tokenFile) : read.optional('OTA_REPO_TOKEN')),
    stateDir,
    pollIntervalMs: read.duration('OTA_POLL_INTERVAL', 60_000, 5_000, 86_400_000),
    pollJitter: jitterPct / 100,
    sweepIntervalMs: read.duration('OTA_SWEEP_INTERVAL', 3_600_000, 60_000, 7 * 86_400_000),
    gitTimeoutMs: read.duration('OTA_GIT_TIMEOUT', 60_000, 1_000, 3_600_000),
    channel,
    requireSigned,
    allowedSignersFile,
    acceptMovedTags: read.bool('OTA_ACCEPT_MOVED_TAGS', false),
    logLevel: read.oneOf(
      'OTA_LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      'info',
    ),
  });
}

export const ledgerFile = (config: AgentConfig) => join(config.stateDir, 'tags.json');

import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../common/config-error.js';
import { envReader } from '../common/env-reader.js';
import { checkDockerHost } from './docker-client.js';
import { loadSelfUpdateConfig, type SelfUpdateConfig } from './self/self-update-config.js';

export interface AgentConfig {
  readonly repoUrl: string;
  /** Reads the token at each use: from OTA_REPO_TOKEN_FILE (preferred) or OTA_REPO_TOKEN. */
  readonly token: () => string | undefined;
  /** Which of the two the token comes from, for error messages that say what to check. */
  readonly tokenVariable: 'OTA_REPO_TOKEN_FILE' | 'OTA_REPO_TOKEN';
  /** PEM CA certificates git trusts for the repository's https URL instead of the system's. */
  readonly gitCaFile: string | undefined;
  readonly stateDir: string;
  readonly pollIntervalMs: number;
  readonly pollJitter: number;
  readonly sweepIntervalMs: number;
  readonly gitTimeoutMs: number;
  readonly channel: string;
  readonly requireSigned: boolean;
  readonly allowedSignersFile: string | undefined;
  /** GPG public keys whose signatures count, as for SSH keys in the allowed-signers file. */
  readonly allowedGpgKeysFile: string | undefined;
  readonly acceptMovedTags: boolean;
  readonly logLevel: string;
  readonly deviceName: string;
  /** Groups this device belongs to, for rollout policies (a site, a hardware model). */
  readonly groups: readonly string[];
  readonly imageSource: 'build' | 'pull';
  readonly imageRepository: string;
  /** Pull mode: how long after a tag appears a missing image is waited for, not failed. */
  readonly pullGraceMs: number;
  readonly platform: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly registryAuth: { username: string; password: string; serveraddress: string } | undefined;
  readonly keepImages: number;
  readonly minFreeBytes: number;
  /** Where the disk-space check measures, when the engine's own storage path is not visible. */
  readonly diskCheckPath: string | undefined;
  readonly healthTimeoutMs: number;
  readonly watchMs: number;
  readonly appNetwork: string;
  readonly appVolume: string;
  /** WEATHER_* settings passed on to every app container (database and the like). */
  readonly appEnv: Readonly<Record<string, string>>;
  /** The agent replacing itself with a release's agent (agent/self). */
  readonly selfUpdate: SelfUpdateConfig;
}

/** A token file that vanished or cannot be read gives no token: the server then says 401. */
function readToken(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** A CA bundle must be readable and hold at least one certificate that parses. */
function checkCaFile(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  const expected = 'a readable file of PEM CA certificates (-----BEGIN CERTIFICATE-----)';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('OTA_GIT_CA_FILE', expected, `${file} (${(err as Error).message})`);
  }
  // Not required to be a CA: a server's own self-signed certificate may be trusted as well.
  const parses = (pem: string) => {
    try {
      new X509Certificate(pem);
      return true;
    } catch {
      return false;
    }
  };
  if (!(text.match(PEM_CERTIFICATE) ?? []).some(parses)) {
    throw new ConfigError('OTA_GIT_CA_FILE', expected, `${file} (no PEM certificate in it)`);
  }
  return file;
}

/**
 * The origin URL of the clone compose.yaml lives in (mounted read-only), as an https URL:
 * zero-edit set-up follows the repository the user cloned.
 */
export function originOf(gitConfigFile: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(gitConfigFile, 'utf8');
  } catch {
    return undefined;
  }
  const section = /\[remote "origin"\]([^[]*)/.exec(text)?.[1] ?? '';
  const url = /^\s*url\s*=\s*(\S+)\s*$/m.exec(section)?.[1];
  if (!url) return undefined;
  const scp = /^[\w.-]+@([\w.-]+):(.+)$/.exec(url); // git@github.com:owner/repo.git
  if (scp) return `https://${scp[1]}/${scp[2]}`;
  const ssh = /^ssh:\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/(.+)$/.exec(url);
  if (ssh) return `https://${ssh[1]}/${ssh[2]}`;
  return /^https?:\/\//.test(url) ? url : undefined;
}

/** The agent sets these itself for each app container. */
const AGENT_OWNED = new Set(['WEATHER_DEVICE_ID', 'WEATHER_APP_VERSION']);

function parseGroups(text: string): string[] {
  const groups = text
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean);
  for (const g of groups) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(g)) {
      throw new ConfigError('OTA_GROUPS', 'comma-separated group names such as site-a,pi4', text);
    }
  }
  return groups;
}

/** "NODE_IMAGE=local/node:20,FOO=bar" -> { NODE_IMAGE: 'local/node:20', FOO: 'bar' } */
function parseBuildArgs(text: string): Record<string, string> {
  const args: Record<string, string> = {};
  for (const pair of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError('OTA_BUILD_ARGS', 'comma-separated NAME=value pairs', text);
    args[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return args;
}

const CHANNEL = /^[a-z][a-z0-9-]{0,31}$/;

/** Loads and validates the agent's settings once; errors name the variable. */
export function loadAgentConfig(
  env: Record<string, string | undefined> = process.env,
): AgentConfig {
  const read = envReader(env);
  const repoUrl =
    read.optional('OTA_REPO_URL') ??
    originOf(read.string('OTA_CHECKOUT_GIT_CONFIG', '/etc/ota/checkout.git/config'));
  if (!repoUrl) {
    throw new ConfigError(
      'OTA_REPO_URL',
      'the git URL of the app repository (or run compose from a clone of it)',
      undefined,
    );
  }
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

  checkDockerHost(read.optional('DOCKER_HOST'));
  const tokenFile = read.optional('OTA_REPO_TOKEN_FILE');
  if (tokenFile && !existsSync(tokenFile)) {
    throw new ConfigError('OTA_REPO_TOKEN_FILE', 'a readable file holding the token', tokenFile);
  }
  const gitCaFile = checkCaFile(read.optional('OTA_GIT_CA_FILE'));
  const requireSigned = read.bool('OTA_REQUIRE_SIGNED', false);
  const allowedSignersFile = read.optional('OTA_ALLOWED_SIGNERS_FILE');
  const allowedGpgKeysFile = read.optional('OTA_ALLOWED_GPG_KEYS_FILE');
  if (allowedGpgKeysFile && !existsSync(allowedGpgKeysFile)) {
    throw new ConfigError(
      'OTA_ALLOWED_GPG_KEYS_FILE',
      'an existing file of GPG public keys (gpg --export --armor KEYID)',
      allowedGpgKeysFile,
    );
  }
  // With only GPG keys trusted, no SSH allowed-signers file is needed.
  if (
    requireSigned &&
    (allowedSignersFile ? !existsSync(allowedSignersFile) : !allowedGpgKeysFile)
  ) {
    throw new ConfigError(
      'OTA_ALLOWED_SIGNERS_FILE',
      'an existing allowed-signers file (or OTA_ALLOWED_GPG_KEYS_FILE) when OTA_REQUIRE_SIGNED=true',
      allowedSignersFile,
    );
  }
  const channel = read.string('OTA_CHANNEL', 'stable');
  if (!CHANNEL.test(channel)) {
    throw new ConfigError('OTA_CHANNEL', 'stable, or a pre-release name such as beta', channel);
  }
  const imageSource = read.oneOf('OTA_IMAGE_SOURCE', ['build', 'pull'] as const, 'build');
  const imageRepository = read.string('OTA_IMAGE_REPOSITORY', '');
  if (imageSource === 'pull' && !imageRepository) {
    throw new ConfigError(
      'OTA_IMAGE_REPOSITORY',
      'a registry repository such as ghcr.io/acme/weather when OTA_IMAGE_SOURCE=pull',
      undefined,
    );
  }
  const registryUser = read.optional('OTA_REGISTRY_USER');
  const registryPassword = read.secret('OTA_REGISTRY_PASSWORD');
  const appEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith('WEATHER_') && value !== undefined && !AGENT_OWNED.has(key))
      appEnv[key] = value;
  }
  const jitterPct = read.int('OTA_POLL_JITTER_PERCENT', 20, 0, 90);
  const stateDir = read.string('OTA_STATE_DIR', '/var/lib/ota');

  return Object.freeze({
    repoUrl,
    token: () => (tokenFile ? readToken(tokenFile) : read.optional('OTA_REPO_TOKEN')),
    tokenVariable:
      !tokenFile && read.optional('OTA_REPO_TOKEN') ? 'OTA_REPO_TOKEN' : 'OTA_REPO_TOKEN_FILE',
    gitCaFile,
    stateDir,
    pollIntervalMs: read.duration('OTA_POLL_INTERVAL', 60_000, 5_000, 86_400_000),
    pollJitter: jitterPct / 100,
    sweepIntervalMs: read.duration('OTA_SWEEP_INTERVAL', 3_600_000, 60_000, 7 * 86_400_000),
    gitTimeoutMs: read.duration('OTA_GIT_TIMEOUT', 60_000, 1_000, 3_600_000),
    channel,
    requireSigned,
    allowedSignersFile,
    allowedGpgKeysFile,
    acceptMovedTags: read.bool('OTA_ACCEPT_MOVED_TAGS', false),
    logLevel: read.oneOf(
      'OTA_LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      'info',
    ),
    deviceName: read.matching(
      'OTA_DEVICE_NAME',
      /^[a-z0-9][a-z0-9-]{0,31}$/,
      'lower-case letters, digits and -',
      'pi',
    ),
    groups: parseGroups(read.string('OTA_GROUPS', '')),
    imageSource,
    imageRepository,
    pullGraceMs: read.duration('OTA_PULL_GRACE', 900_000, 0, 86_400_000),
    platform: read.matching(
      'OTA_PLATFORM',
      /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/,
      'os/arch such as linux/arm64',
      'linux/arm64',
    ),
    buildArgs: parseBuildArgs(read.string('OTA_BUILD_ARGS', '')),
    registryAuth:
      registryUser && registryPassword
        ? {
            username: registryUser,
            password: registryPassword,
            serveraddress: imageRepository.split('/')[0] ?? '',
          }
        : undefined,
    keepImages: read.int('OTA_KEEP_IMAGES', 3, 1, 100),
    minFreeBytes: read.int('OTA_MIN_FREE_MB', 1024, 0, 10_000_000) * 1024 * 1024,
    diskCheckPath: read.optional('OTA_DISK_CHECK_PATH')
      ? read.matching(
          'OTA_DISK_CHECK_PATH',
          /^\//,
          'an absolute path inside the agent container',
          '',
        )
      : undefined,
    healthTimeoutMs: read.duration('OTA_HEALTH_TIMEOUT', 120_000, 5_000, 3_600_000),
    watchMs: read.duration('OTA_WATCH_WINDOW', 120_000, 0, 86_400_000),
    appNetwork: read.string('OTA_APP_NETWORK', 'ota-app'),
    appVolume: read.string('OTA_APP_VOLUME', 'ota-weather-data'),
    appEnv,
    selfUpdate: loadSelfUpdateConfig(env),
  });
}

export const ledgerFile = (config: AgentConfig) => join(config.stateDir, 'tags.json');
/** The rollout policy in force, kept so a restart cannot be used to lift it. */
export const policyFile = (config: AgentConfig) => join(config.stateDir, 'policy.json');

// Wiring only: configuration, the outside systems' clients, the poll loop, signals.
// Deploying a found version (build/pull, health-gated switch) comes with the deploy module;
// until then the agent reports which version the device should run.
import Docker from 'dockerode';
import { ConfigError } from '../app/errors.js';
import { ledgerFile, loadAgentConfig } from './config.js';
import { createAgentLogger } from './log.js';
import { gitClient } from './release/git-client.js';
import { GitReleaseSource } from './release/git-release-source.js';
import { PollLoop } from './release/poll-loop.js';
import { ReleaseWatcher } from './release/release-watcher.js';
import { TagLedger } from './release/tag-ledger.js';

function loadConfigOrExit() {
  try {
    return loadAgentConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createAgentLogger('info').fatal(
      { variable: err.variable, expected: err.expected },
      `invalid configuration: ${err.message}`,
    );
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createAgentLogger(config.logLevel);

  const docker = new Docker();
  await docker.version().then(
    (v) => log.info({ engine: v.Version, api: v.ApiVersion }, 'docker engine reachable'),
    (err) => log.error({ err }, 'docker engine not reachable: is /var/run/docker.sock mounted?'),
  );

  const source = new GitReleaseSource(
    {
      url: config.repoUrl,
      stateDir: config.stateDir,
      token: config.token,
      timeoutMs: config.gitTimeoutMs,
      retries: 4,
      minRetryMs: 2_000,
      maxRetryMs: 30_000,
      git: gitClient(config.gitTimeoutMs),
    },
    log.child({ module: 'release' }),
  );
  const watcher = new ReleaseWatcher(
    source,
    new TagLedger(ledgerFile(config)),
    {
      channel: config.channel,
      requireSigned: config.requireSigned,
      allowedSignersFile: config.allowedSignersFile,
      acceptMovedTags: config.acceptMovedTags,
      sweepIntervalMs: config.sweepIntervalMs,
      now: Date.now,
    },
    log.child({ module: 'release' }),
  );
  let reported: string | undefined;
  const loop = new PollLoop(
    watcher,
    {
      intervalMs: config.pollIntervalMs,
      jitter: config.pollJitter,
      random: Math.random,
      device: () => ({ current: undefined, failed: new Set() }),
      onResult: async (result) => {
        if (result.target && result.target.version !== reported) {
          reported = result.target.version;
          log.info({ ...result.target }, 'release detected');
        }
      },
    },
    log.child({ module: 'poll' }),
  );
  loop.start();
  log.info(
    { repo: config.repoUrl, channel: config.channel, pollIntervalMs: config.pollIntervalMs },
    'agent started',
  );

  const stop = async (signal: string) => {
    log.info({ signal }, 'stopping');
    // A poll in flight is abandoned after 5 s: nothing it does needs finishing, and Docker
    // kills the container 10 s after SIGTERM.
    await Promise.race([loop.stop(), new Promise((r) => setTimeout(r, 5_000).unref())]);
    log.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  createAgentLogger('info').fatal({ err }, 'agent failed to start');
  process.exit(1);
});

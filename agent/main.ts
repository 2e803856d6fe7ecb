// Wiring only: configuration, the one client per outside system, the service, signals.
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import knex from 'knex';
import { ConfigError } from '../common/config-error.js';
import { readDbConfig } from '../common/db-config.js';
import { envReader } from '../common/env-reader.js';
import { knexConnection } from '../common/knex-connection.js';
import { LOG_LINES } from './actions/diagnostics.js';
import { wireActions } from './actions/wire-actions.js';
import { Agent } from './agent.js';
import { ledgerFile, loadAgentConfig, policyFile } from './config.js';
import { serveControl } from './control/control-server.js';
import { appRunSpec } from './deploy/app-run-spec.js';
import { Deployer } from './deploy/deployer.js';
import { DockerContainerRuntime } from './deploy/docker-runtime.js';
import { deviceIdOfApps, loadOrCreateDeviceId } from './device-id.js';
import { loadDockerode } from './docker-client.js';
import { collectGarbageRegularly } from './idle-memory.js';
import { DockerImageStore } from './image/docker-image-store.js';
import { createAgentLogger } from './log.js';
import { LogRing } from './log-ring.js';
import { gitClient } from './release/git-client.js';
import { GitReleaseSource } from './release/git-release-source.js';
import { PollLoop } from './release/poll-loop.js';
import { ReleaseWatcher } from './release/release-watcher.js';
import { TagLedger } from './release/tag-ledger.js';
import { parseVersion } from './release/version.js';
import { CentralReporter } from './report/central-reporter.js';
import { CentralRollouts } from './report/rollout-store.js';
import { wireSelf } from './self/self-wiring.js';
import { AgentState } from './state/agent-state.js';
import { StatusBoard } from './status.js';
import { Updater } from './updater.js';

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
  // Every line goes to stdout as before; the last ones are kept for diagnostics bundles.
  const ring = new LogRing(LOG_LINES);
  const log = createAgentLogger(config.logLevel, ring);
  const Docker = loadDockerode();
  const docker = new Docker();
  const engine = await docker.version();
  const runtime = new DockerContainerRuntime(docker, config.appNetwork);
  const deviceId = loadOrCreateDeviceId(
    join(config.stateDir, 'device-id'),
    config.deviceName,
    deviceIdOfApps(await runtime.list()),
  );
  log.info({ engine: engine.Version, api: engine.ApiVersion, deviceId }, 'docker engine reachable');

  const state = new AgentState(knex(AgentState.knexConfig(join(config.stateDir, 'agent.db'))));
  await state.migrate();
  const source = new GitReleaseSource(
    {
      url: config.repoUrl,
      stateDir: config.stateDir,
      token: config.token,
      tokenVariable: config.tokenVariable,
      caFile: config.gitCaFile,
      gpgKeysFile: config.allowedGpgKeysFile,
      timeoutMs: config.gitTimeoutMs,
      retries: 4,
      minRetryMs: 2_000,
      maxRetryMs: 30_000,
      git: gitClient(config.gitTimeoutMs),
    },
    log.child({ module: 'release' }),
  );
  const imageOptions = {
    platform: config.platform,
    repository: config.imageRepository,
    buildArgs: config.buildArgs,
    registryAuth: config.registryAuth,
    minFreeBytes: config.minFreeBytes,
    dataPath: config.diskCheckPath,
  };
  const images = new DockerImageStore(docker, imageOptions, log.child({ module: 'image' }));
  // Self-update: this agent acts on the app only while it holds the lease (agent/self).
  const self = await wireSelf(docker, config, state, imageOptions, source, log);
  const deployer = new Deployer(
    runtime,
    state,
    {
      healthTimeoutMs: config.healthTimeoutMs,
      watchMs: config.watchMs,
      stopTimeoutS: 10,
      pollMs: 250,
      spec: appRunSpec(config, deviceId),
      imageOf: async (version) => (await images.find(version))?.ref,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    },
    log.child({ module: 'deploy' }),
  );
  const board = new StatusBoard();
  const updater = new Updater(
    source,
    images,
    deployer,
    state,
    board,
    {
      imageSource: config.imageSource,
      keepImages: config.keepImages,
      repoUrl: config.repoUrl,
      stateDir: config.stateDir,
      pullGraceMs: config.pullGraceMs,
    },
    log.child({ module: 'update' }),
  );
  // The central database the app writes to, from the same WEATHER_* settings. With the
  // default SQLite file, compose mounts the app's data volume at /data for this.
  const central = readDbConfig(envReader(config.appEnv), '/data');
  const centralDb =
    central.client !== 'sqlite' || existsSync(dirname(central.file))
      ? knex(knexConnection(central, 'edge-ota-agent'))
      : undefined;
  // The app (uid 1000) creates the SQLite file; if the agent (root) made it first, the app
  // could not write it.
  const centralReady = () => central.client !== 'sqlite' || existsSync(central.file);
  const reporter =
    centralDb &&
    new CentralReporter(centralDb, deviceId, log.child({ module: 'report' }), centralReady);
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
      device: { id: deviceId, groups: config.groups },
      policyFile: policyFile(config),
      rollouts: centralDb && new CentralRollouts(centralDb, centralReady),
    },
    log.child({ module: 'release' }),
  );
  if (!reporter) log.info('central reporting off: the app data volume is not mounted at /data');
  const actions = wireActions({
    state,
    deployer,
    runtime,
    images,
    ring,
    config,
    centralPassword: central.client === 'sqlite' ? undefined : central.password,
    status: () => agent.status(),
    log: log.child({ module: 'actions' }),
  });
  const agent: Agent = new Agent(
    deviceId,
    config.channel,
    updater,
    deployer,
    images,
    state,
    board,
    log,
    reporter,
    config.groups,
    actions,
    self?.updater({
      // Not waiting for requests under way: one may wait in the queue behind this hand-over.
      release: async () => {
        control?.close();
        control?.closeAllConnections();
      },
      activity: (activity, version) => board.set(activity, version),
    }),
    () => {
      log.fatal('another agent holds the lease of this device: exiting, to start again as it says');
      process.exit(1);
    },
  );
  // Signals first: a new agent waiting to be given charge must stop when the old one asks.
  let control: Server | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    // The app keeps running without the agent. A step in flight is abandoned after 5 s; the
    // next start repairs whatever it left (Docker kills the container 10 s after SIGTERM).
    await Promise.race([agent.stop(), new Promise((r) => setTimeout(r, 5_000).unref())]);
    control?.close();
    self?.server.close();
    await state.close().catch(() => undefined);
    await reporter?.close().catch(() => undefined);
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  await self?.takeCharge(async () => {
    const record = await state.record();
    const current = record.running ? parseVersion(record.running.version) : undefined;
    return (await watcher.poll(current, new Set(Object.keys(record.failed)))).error?.message;
  });
  control = serveControl(
    join(config.stateDir, 'agent.sock'),
    agent,
    log.child({ module: 'control' }),
  );

  await agent.start(
    (a) =>
      new PollLoop(
        watcher,
        {
          intervalMs: config.pollIntervalMs,
          jitter: config.pollJitter,
          random: Math.random,
          device: () => a.device(),
          onResult: (result) => a.onPoll(result),
        },
        log.child({ module: 'poll' }),
      ),
  );
  log.info(
    {
      deviceId,
      repo: config.repoUrl,
      channel: config.channel,
      imageSource: config.imageSource,
      platform: config.platform,
      pollIntervalMs: config.pollIntervalMs,
    },
    'agent started',
  );
  collectGarbageRegularly(log);
}

main().catch((err) => {
  createAgentLogger('info').fatal({ err }, 'agent failed to start');
  process.exit(1);
});

import { randomUUID } from 'node:crypto';
import knex from 'knex';
import pRetry from 'p-retry';
import { ConfigError } from '../common/config-error.js';
import { loadAppConfig } from './config.js';
import { HealthReporter, monotonicMs } from './health.js';
import { createLogger } from './log.js';
import { Sampler } from './sensor/sampler.js';
import { readBootId, slotReadingId } from './sensor/slot.js';
import { seededRandom } from './sensor/weather-model.js';
import { CentralStore } from './store/central-store.js';
import { knexConfig } from './store/knex-config.js';
import { Spool } from './store/spool.js';
import { Uploader } from './store/uploader.js';

const HOUR = 3_600_000;
const DEVICE_HEARTBEAT_MS = 60_000;

function loadConfigOrExit() {
  try {
    return loadAppConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      createLogger('info', { app: 'weather' }).fatal(
        { variable: err.variable, expected: err.expected },
        `invalid configuration: ${err.message}`,
      );
      process.exit(2);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.logLevel, {
    app: 'weather',
    deviceId: config.deviceId,
    version: config.appVersion,
  });
  const now = () => Date.now();
  const owner = `${config.hostname}:${process.pid}:${randomUUID().slice(0, 8)}`;

  const spool = new Spool(config.spoolFile);
  const health = new HealthReporter(config.healthFile, {
    appVersion: config.appVersion,
    maxAgeMs: 3 * config.intervalMs + 5_000,
    now: monotonicMs(),
  });
  const central = new CentralStore(knex(knexConfig(config.db)));
  const device = {
    id: config.deviceId,
    hostname: config.hostname,
    appVersion: config.appVersion,
  };

  let slotsStoredByOthers = 0;
  const boot = readBootId();
  if (!boot.shared)
    log.warn('no boot id readable: readings of two app processes are not de-duplicated');
  const slotKey = { deviceId: config.deviceId, bootId: boot.bootId, intervalMs: config.intervalMs };
  const sampler = new Sampler(
    {
      deviceId: config.deviceId,
      appVersion: config.appVersion,
      intervalMs: config.intervalMs,
      now,
      monotonic: monotonicMs,
      readingId: (slot) => slotReadingId(slotKey, slot),
      random: config.seed === undefined ? Math.random : seededRandom(config.seed),
    },
    (reading) => {
      // Stored by this process or, for the same slot, by the other version: durable either way.
      if (!spool.append(reading)) slotsStoredByOthers += 1;
      health.stored(monotonicMs());
    },
    (err) => {
      health.failed(err, monotonicMs());
      log.error({ err }, 'reading could not be stored');
    },
    log.child({ module: 'sampler' }),
  );
  const uploader = new Uploader(
    spool,
    central,
    {
      owner,
      batchSize: config.uploadBatchSize,
      intervalMs: config.uploadIntervalMs,
      // Long enough for one slow upload; short enough that a crashed process's batch is
      // picked up by the next one within half a minute.
      leaseMs: Math.max(30_000, 3 * config.uploadIntervalMs),
      minRetryMs: Math.min(1_000, config.uploadMaxBackoffMs),
      maxRetryMs: config.uploadMaxBackoffMs,
      now,
    },
    log.child({ module: 'uploader' }),
  );

  // Sampling starts at once: readings are safe in the spool whether or not the database is up.
  sampler.start();
  log.info(
    { intervalMs: config.intervalMs, db: config.db.client, spool: config.spoolFile },
    'started',
  );

  const stopping = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  const connect = pRetry(
    async () => {
      await central.migrate();
      await central.touchDevice({ ...device, status: 'online' }, new Date());
    },
    {
      retries: Number.POSITIVE_INFINITY,
      minTimeout: Math.min(1_000, config.uploadMaxBackoffMs),
      maxTimeout: config.uploadMaxBackoffMs,
      randomize: true,
      signal: stopping.signal,
      onFailedAttempt: ({ error, attemptNumber }) =>
        log.warn(
          { err: error, attempt: attemptNumber },
          'central database not reachable; retrying',
        ),
    },
  ).then(() => {
    log.info({ db: config.db.client }, 'central database ready');
    uploader.start();
    timers.push(
      setInterval(() => {
        central
          .touchDevice({ ...device, status: 'online' }, new Date())
          .catch((err) => log.warn({ err }, 'device heartbeat failed'));
      }, DEVICE_HEARTBEAT_MS),
      setInterval(() => {
        const pruned = spool.pruneSent(now() - config.spoolKeepHours * HOUR);
        if (pruned > 0) log.info({ pruned }, 'pruned sent readings from the spool');
        if (config.retentionDays > 0) {
          central
            .deleteOwnReadingsBefore(
              config.deviceId,
              new Date(now() - config.retentionDays * 24 * HOUR),
            )
            .then((deleted) => deleted > 0 && log.info({ deleted }, 'retention'))
            .catch((err) => log.warn({ err }, 'retention failed'));
        }
      }, HOUR),
    );
  });
  connect.catch(() => undefined);

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    const started = monotonicMs();
    log.info({ signal }, 'stopping');
    // Whatever happens below, exit well inside Docker's 10 s grace; the spool keeps the rest.
    setTimeout(() => {
      log.warn('shutdown took too long; exiting, unsent readings stay in the spool');
      process.exit(0);
    }, config.shutdownTimeoutMs + 2_000).unref();
    sampler.stop();
    health.stopping();
    stopping.abort();
    for (const timer of timers) clearInterval(timer);
    await uploader.stop(config.shutdownTimeoutMs);
    await Promise.race([
      central.touchDevice({ ...device, status: 'stopped' }, new Date()).catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 1_000).unref()),
    ]);
    const { pending } = spool.counts();
    spool.close();
    await central.close().catch(() => undefined);
    log.info(
      {
        ms: monotonicMs() - started,
        produced: sampler.produced,
        slotsStoredByOthers,
        uploaded: uploader.uploaded,
        pending,
      },
      'stopped',
    );
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  createLogger('info', { app: 'weather' }).fatal({ err }, 'failed to start');
  process.exit(1);
});

// Wiring only. The update loop (release source, image store, deploy) is being built in the
// next issues; today the agent checks that its two outside systems answer and then waits.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { envReader } from '../app/env-reader.js';
import { ConfigError } from '../app/errors.js';
import { createAgentLogger } from './log.js';

async function main(): Promise<void> {
  let level: string;
  try {
    level = envReader(process.env).oneOf(
      'OTA_LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      'info',
    );
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createAgentLogger('info').fatal(
      { variable: err.variable },
      `invalid configuration: ${err.message}`,
    );
    process.exit(2);
  }
  const log = createAgentLogger(level);

  const docker = new Docker();
  try {
    const version = await docker.version();
    log.info({ engine: version.Version, api: version.ApiVersion }, 'docker engine reachable');
  } catch (err) {
    log.error({ err }, 'docker engine not reachable: is /var/run/docker.sock mounted?');
  }
  try {
    const { stdout } = await promisify(execFile)('git', ['--version']);
    log.info({ git: stdout.trim() }, 'git available');
  } catch (err) {
    log.error({ err }, 'git not found in the agent image');
  }
  log.warn('update loop not implemented yet: this agent does not deploy anything');

  const keepAlive = setInterval(() => undefined, 1 << 30);
  const stop = (signal: string) => {
    clearInterval(keepAlive);
    log.info({ signal }, 'stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  createAgentLogger('info').fatal({ err }, 'agent failed to start');
  process.exit(1);
});

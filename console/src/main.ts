import knex from 'knex';
import { ConfigError } from '../../common/config-error.js';
import { loadConsoleConfig } from './config.js';
import { ConsoleData } from './console-data.js';
import { readOnlyKnexConfig } from './db/readonly-knex.js';
import { buildServer } from './http/server.js';
import { createLogger } from './log.js';

// Wiring only: settings, the read-only database, the HTTP server, signals.
let config: ReturnType<typeof loadConsoleConfig>;
try {
  config = loadConsoleConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`ota console: ${err.message}\n`);
  process.exit(2);
}
const log = createLogger(config.logLevel);
const db = knex(readOnlyKnexConfig(config.db, log));
const server = buildServer({
  data: new ConsoleData(db, config.db.client, config.staleAfterMs),
  log,
  password: config.password,
  refreshMs: config.refreshMs,
});

const stop = async (signal: string) => {
  log.info({ signal }, 'stopping');
  await server.close();
  await db.destroy();
  process.exit(0);
};
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));

const address = await server.listen({ host: config.host, port: config.port });
log.info(
  { address, db: config.db.client, passwordRequired: config.password !== undefined },
  'console listening',
);

import knex from 'knex';
import { onTestFinished } from 'vitest';
import { loadConsoleConfig } from '../../console/src/config.js';
import { ConsoleData } from '../../console/src/console-data.js';
import { readOnlyKnexConfig } from '../../console/src/db/readonly-knex.js';
import { buildServer } from '../../console/src/http/server.js';
import { createLogger } from '../../console/src/log.js';

/**
 * The console as main.ts wires it, from an environment, on a free loopback port, with a fixed
 * clock; closed when the test (or, with `afterAll`, the suite) ends.
 */
export async function startConsole(
  env: Record<string, string>,
  now: () => number,
  cleanup: (fn: () => Promise<void>) => void = onTestFinished,
) {
  const config = loadConsoleConfig({ CONSOLE_PORT: '0', CONSOLE_LOG_LEVEL: 'warn', ...env });
  const log = createLogger(config.logLevel);
  const db = knex(readOnlyKnexConfig(config.db, log));
  const server = buildServer({
    data: new ConsoleData(db, config.db.client, config.staleAfterMs, now),
    log,
    password: config.password,
    refreshMs: config.refreshMs,
  });
  await server.listen({ host: config.host, port: config.port });
  const address = server.server.address();
  if (!address || typeof address !== 'object') throw new Error('console did not listen');
  cleanup(async () => {
    await server.close();
    await db.destroy();
  });
  return { url: `http://127.0.0.1:${address.port}`, config };
}

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentNodeFlags } from '../helpers/agent-node-flags.js';
import { REPO_ROOT } from '../helpers/docker-cli.js';
import { freePort } from '../helpers/free-port.js';
import { TestPostgres } from '../helpers/postgres.js';
import { tempDirForSuite } from '../helpers/temp-dir.js';

const run = promisify(execFile);
const DIST = join(REPO_ROOT, 'dist');

// The agent's image runs node with the flags of Dockerfile.agent's CMD, --jitless among them
// (no WebAssembly, so no parser for Node's fetch). Each library path the agent takes must work
// under exactly those flags: this runs them in a child node (the build in dist/), against real
// servers. pg touches the fetch globals (`typeof Response`), which under --jitless alone
// crashed the agent at its first connection to a PostgreSQL central database.
describe("the agent's library paths under Dockerfile.agent's node flags", () => {
  const dir = tempDirForSuite('ota-node-flags-');
  const flags = agentNodeFlags(REPO_ROOT);
  let pg: TestPostgres;

  beforeAll(async () => {
    pg = await TestPostgres.start();
  }, 60_000);
  afterAll(async () => {
    await pg?.destroy();
  });

  // The central reporter's own path: settings read as the agent reads them, its migrations,
  // then a query (the connection, the pool, the protocol's stream handling).
  const script = `
    import knex from 'knex';
    import { readDbConfig } from '${DIST}/common/db-config.js';
    import { envReader } from '${DIST}/common/env-reader.js';
    import { knexConnection } from '${DIST}/common/knex-connection.js';
    import { reporterMigrations } from '${DIST}/agent/report/central-reporter.js';
    import { loadDockerode } from '${DIST}/agent/docker-client.js';
    const db = knex(knexConnection(readDbConfig(envReader(process.env), process.argv[1]), 'flags'));
    await db.migrate.latest(reporterMigrations);
    const rows = await db('ota_devices').count({ n: '*' });
    await db.destroy();
    const Docker = loadDockerode();
    new Docker({ socketPath: '/nonexistent.sock' });
    console.log(JSON.stringify({ devices: Number(rows[0].n), wasm: typeof WebAssembly }));
  `;
  const runAgentPath = async (env: Record<string, string>) => {
    const { stdout } = await run(
      process.execPath,
      [...flags, '--input-type=module', '-e', script, dir],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
    );
    return JSON.parse(stdout.trim().split('\n').at(-1) as string);
  };

  it('runs node with --jitless (the figures in the README are for these flags)', () => {
    expect(flags).toContain('--jitless');
  });

  it('reaches a PostgreSQL central database', async () => {
    expect(await runAgentPath(pg.env)).toEqual({ devices: 0, wasm: 'undefined' });
  }, 90_000);

  // No SQL Server here: its driver (tedious) is loaded and tries to connect to a closed port;
  // what must come back is its connection error, not a crash of node.
  it('loads the SQL Server driver and fails only on the connection', async () => {
    const env = {
      WEATHER_DB_CLIENT: 'mssql',
      WEATHER_DB_HOST: '127.0.0.1',
      WEATHER_DB_PORT: String(await freePort()),
      WEATHER_DB_NAME: 'weather',
      WEATHER_DB_USER: 'sa',
      WEATHER_DB_PASSWORD: 'not-a-secret',
      WEATHER_DB_ENCRYPT: 'false',
    };
    const failed = await runAgentPath(env).then(
      () => '',
      (err: { stderr?: string }) => err.stderr ?? String(err),
    );
    expect(failed).toMatch(/ConnectionError|ECONNREFUSED|Failed to connect/);
    expect(failed).not.toMatch(/WebAssembly/);
  }, 90_000);

  it('reaches a SQLite central database', async () => {
    const env = { WEATHER_DB_CLIENT: 'sqlite', WEATHER_DB_FILE: join(dir, 'central.db') };
    expect(await runAgentPath(env)).toEqual({ devices: 0, wasm: 'undefined' });
  }, 90_000);
});

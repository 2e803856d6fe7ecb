// SQL Server cannot run on the build machines, so every statement the app and the agent send to
// the central database is compiled here in knex's mssql dialect (no connection is made) and its
// T-SQL shape and parameter count are checked. This is not a run against a server: see README,
// "What was and was not tested against real servers".
import knex, { type Knex } from 'knex';
import { afterAll, describe, expect, it } from 'vitest';
import { reporterMigrations } from '../../agent/report/central-reporter.js';
import {
  fleetDevicesQuery,
  fleetRolloutRowsQuery,
  insertActionQuery,
  insertAgentDeviceQuery,
  insertDeploymentQuery,
  insertRolloutQuery,
  rolloutCountsQuery,
  rolloutHaltsQuery,
  rolloutOutcomesQuery,
  updateActionQuery,
  updateAgentDeviceQuery,
  updateDeploymentQuery,
  updateRolloutQuery,
} from '../../agent/report/reporter-queries.js';
import { loadAppConfig } from '../../app/config.js';
import {
  deleteOwnReadingsQuery,
  existingReadingIdQueries,
  INSERT_CHUNK,
  insertDeviceQuery,
  insertReadingQueries,
  LOOKUP_CHUNK,
  MSSQL_MAX_PARAMETERS,
  MSSQL_MAX_VALUES_ROWS,
  readingRow,
  updateDeviceQuery,
} from '../../app/store/central-queries.js';
import { knexConfig } from '../../app/store/knex-config.js';
import { appMigrations } from '../../app/store/migrations/index.js';
import { ConfigError } from '../../common/config-error.js';
import { sampleReadings } from '../helpers/readings.js';

const mssql = knex({ client: 'mssql' });
afterAll(() => mssql.destroy());

interface Compiled {
  readonly sql: string;
  readonly bindings: readonly unknown[];
}

function compile(builder: Knex.QueryBuilder): Compiled {
  const native = builder.toSQL().toNative();
  return { sql: native.sql, bindings: native.bindings };
}

/** Runs a migration's up() against a recorder: each schema call is compiled, not executed. */
async function compileMigration(migration: Knex.Migration): Promise<Compiled[]> {
  const compiled: Compiled[] = [];
  // A fresh schema builder per call: one builder accumulates every statement made on it.
  const schema = new Proxy(mssql.schema, {
    get(_target, method: keyof Knex.SchemaBuilder) {
      return (...args: unknown[]) => {
        const fresh = mssql.schema;
        const builder = (fresh[method] as (...a: unknown[]) => Knex.SchemaBuilder).apply(
          fresh,
          args,
        );
        for (const s of builder.toSQL() as unknown as Compiled[]) compiled.push(s);
        return Promise.resolve();
      };
    },
  });
  await migration.up({ schema } as unknown as Knex);
  return compiled;
}

/** knex types hasTable() as a promise; it is a schema builder until awaited. */
function hasTableSql(table: string): unknown {
  return (mssql.schema.hasTable(table) as unknown as Knex.SchemaBuilder).toSQL();
}

async function allMigrations(source: Knex.MigrationSource<string>): Promise<Compiled[]> {
  const out: Compiled[] = [];
  for (const name of await source.getMigrations([])) {
    out.push(...(await compileMigration(await source.getMigration(name))));
  }
  return out;
}

// Every bare word the statements may contain once bracketed identifiers and @pN parameters are
// taken out: T-SQL keywords and types (a knex limit() would become TOP or OFFSET ... FETCH),
// and the system view knex's hasTable reads. A bare table
// or column name, or another dialect's keyword (LIMIT, RETURNING, ON CONFLICT...), fails.
const TSQL_WORDS = new Set(
  (
    'select from where and in as left join on order by asc group count insert into values update ' +
    'set delete create table constraint primary key index not null nvarchar float int ' +
    'datetimeoffset top offset rows fetch next only information_schema tables table_name ' +
    'distinct case when then end is like coalesce max'
  ).split(' '),
);
const FOREIGN =
  /\blimit\b|\breturning\b|\bon conflict\b|\bor ignore\b|\bilike\b|\bserial\b|\bautoincrement\b|::|`|"/i;

function expectTsql({ sql, bindings }: Compiled): void {
  expect(sql).not.toMatch(FOREIGN);
  const bare = sql
    .replace(/\[[^\]]+\]/g, ' ')
    .replace(/@@rowcount|@p\d+/g, ' ')
    .match(/[A-Za-z_][A-Za-z0-9_]*/g);
  expect(
    (bare ?? []).filter((w) => !TSQL_WORDS.has(w.toLowerCase())),
    sql,
  ).toEqual([]);
  // tedious sends each value as a named parameter, @p0..@pN-1, one per binding (schema
  // statements keep knex's `?` until they run).
  const params = new Set(sql.match(/@p\d+/g) ?? []).size + (sql.match(/\?/g) ?? []).length;
  expect(params).toBe(bindings.length);
  expect(bindings.length).toBeLessThanOrEqual(MSSQL_MAX_PARAMETERS);
}

const readings = (n: number) => sampleReadings(n).map((r) => readingRow(r, new Date(0)));
const device = {
  hostname: 'pi-kitchen',
  app_version: '1.4.2',
  last_seen: new Date(0),
  status: 'online',
};
const deployment = {
  from_version: '1.4.1',
  to_version: '1.4.2',
  commit: 'a'.repeat(40),
  kind: 'switch',
  outcome: 'succeeded',
  reason: null,
  started_at: new Date(0),
  finished_at: new Date(1),
};
const agentDevice = { groups: 'canary', channel: 'stable', pinned: null, agent_seen: new Date(0) };

describe('central database statements in the mssql dialect (compiled, not run)', () => {
  it('the app and agent migrations are portable T-SQL DDL', async () => {
    const ddl = [
      ...(await allMigrations(appMigrations.migrationSource as Knex.MigrationSource<string>)),
      ...(await allMigrations(reporterMigrations.migrationSource as Knex.MigrationSource<string>)),
    ];
    expect(ddl.map((s) => s.sql.split(' (')[0])).toEqual([
      'CREATE TABLE [devices]',
      'CREATE TABLE [readings]',
      'CREATE INDEX [readings_device_time] ON [readings]',
      'CREATE TABLE [ota_deployments]',
      'CREATE TABLE [ota_devices]',
      'CREATE TABLE [ota_rollouts]',
      'CREATE TABLE [ota_actions]',
    ]);
    for (const s of ddl) expectTsql(s);
    // Timestamps keep their offset; `commit`, a T-SQL keyword, is a column only in brackets.
    expect(ddl[1]?.sql).toContain('[recorded_at] datetimeoffset not null');
    expect(ddl[3]?.sql).toContain('[commit] nvarchar(64) null');
    expect(ddl[3]?.sql).toContain('PRIMARY KEY ([device_id], [local_id])');
    expect(ddl[5]?.sql).toContain('[halted_at] datetimeoffset null');
    // A diagnostics bundle is far over 4,000 characters: nvarchar(max), not nvarchar(255).
    expect(ddl[6]?.sql).toContain('[detail] nvarchar(max) null');
    expect(ddl[6]?.sql).toContain('PRIMARY KEY ([device_id], [action_id])');
  });

  it("every statement of the app's upload, device row and retention", () => {
    const statements = [
      ...existingReadingIdQueries(mssql, ['r1', 'r2']),
      ...insertReadingQueries(mssql, readings(2)),
      updateDeviceQuery(mssql, 'pi-1', device),
      insertDeviceQuery(mssql, 'pi-1', new Date(0), device),
      deleteOwnReadingsQuery(mssql, 'pi-1', new Date(0)),
    ].map(compile);
    for (const s of statements) expectTsql(s);
    expect(statements.map((s) => s.sql)).toEqual([
      'select [id] from [readings] where [id] in (@p0, @p1)',
      expect.stringMatching(
        /^insert into \[readings\] \(\[app_version\], .*\) values \(@p0, .*@p11\), \(@p12, .*@p23\)$/,
      ),
      'update [devices] set [hostname] = @p0, [app_version] = @p1, [last_seen] = @p2, [status] = @p3 where [id] = @p4;select @@rowcount',
      'insert into [devices] ([app_version], [first_seen], [hostname], [id], [last_seen], [status]) values (@p0, @p1, @p2, @p3, @p4, @p5)',
      'delete from [readings] where [device_id] = @p0 and [recorded_at] < @p1;select @@rowcount',
    ]);
  });

  it("every statement of the agent's report and fleet view", () => {
    const key = { device_id: 'pi-1', local_id: 7 };
    const statements = [
      updateDeploymentQuery(mssql, key, deployment),
      insertDeploymentQuery(mssql, key, deployment),
      updateAgentDeviceQuery(mssql, 'pi-1', agentDevice),
      insertAgentDeviceQuery(mssql, 'pi-1', agentDevice),
      fleetDevicesQuery(mssql),
      rolloutOutcomesQuery(mssql),
    ].map(compile);
    statements.push(...(hasTableSql('devices') as Compiled[]));
    for (const s of statements) expectTsql(s);
    // The reporter's upsert counts on update answering with the rows it changed.
    expect(statements[0]?.sql).toMatch(/^update \[ota_deployments\] set .*;select @@rowcount$/);
    expect(statements[2]?.sql).toMatch(/^update \[ota_devices\] set .*;select @@rowcount$/);
    expect(statements[4]?.sql).toBe(
      'select [d].[id], [d].[app_version], [d].[status], [d].[last_seen], [o].[groups] from [devices] as [d] left join [ota_devices] as [o] on [o].[device_id] = [d].[id] order by [d].[id] asc',
    );
    expect(statements[5]?.sql).toBe(
      'select [to_version], [outcome], count(*) as [n] from [ota_deployments] where [kind] = @p0 group by [to_version], [outcome]',
    );
  });

  it("every statement of the agents' halt checks", () => {
    const row = {
      policy: '{"percent":100,"withdrawn":false,"halt":{"failedPercent":20,"minDevices":5}}',
      tried: 10,
      failed: 3,
      halted_at: new Date(0),
      halt_reason: '3 of 10 devices failed',
      updated_at: new Date(0),
      updated_by: 'pi-1',
    };
    const statements = [
      rolloutCountsQuery(mssql, ['1.4.0', '1.5.0']),
      rolloutHaltsQuery(mssql, ['1.4.0']),
      updateRolloutQuery(mssql, '1.4.0', row),
      updateRolloutQuery(mssql, '1.4.0', row, true),
      insertRolloutQuery(mssql, '1.4.0', row),
      fleetRolloutRowsQuery(mssql),
    ].map(compile);
    for (const s of statements) expectTsql(s);
    expect(statements.map((s) => s.sql)).toEqual([
      'select [to_version], count(distinct [device_id]) as [tried], count(distinct case when [outcome] in (@p0, @p1) then [device_id] end) as [failed] from [ota_deployments] where [kind] = @p2 and [to_version] in (@p3, @p4) and [outcome] is not null and not ([outcome] = @p5 and [reason] is not null and [reason] like @p6) group by [to_version]',
      'select [version], [halted_at], [halt_reason], [policy] from [ota_rollouts] where [version] in (@p0) and [halted_at] is not null',
      'update [ota_rollouts] set [policy] = @p0, [tried] = @p1, [failed] = @p2, [halted_at] = coalesce([halted_at], @p3), [halt_reason] = coalesce([halt_reason], @p4), [updated_at] = @p5, [updated_by] = @p6 where [version] = @p7;select @@rowcount',
      'update [ota_rollouts] set [policy] = @p0, [tried] = @p1, [failed] = @p2, [halted_at] = @p3, [halt_reason] = @p4, [updated_at] = @p5, [updated_by] = @p6 where [version] = @p7;select @@rowcount',
      'insert into [ota_rollouts] ([failed], [halt_reason], [halted_at], [policy], [tried], [updated_at], [updated_by], [version]) values (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7)',
      'select * from [ota_rollouts] order by [version] asc',
    ]);
  });

  it("every statement of the agent's remote action report", () => {
    const key = { device_id: 'pi-1', action_id: 'restart-2026-11-24' };
    const row = {
      action: 'restart-app',
      outcome: 'succeeded',
      detail: '1.4.2 restarted, healthy',
      started_at: new Date(0),
      finished_at: new Date(1),
    };
    const statements = [updateActionQuery(mssql, key, row), insertActionQuery(mssql, key, row)].map(
      compile,
    );
    for (const s of statements) expectTsql(s);
    expect(statements.map((s) => s.sql)).toEqual([
      'update [ota_actions] set [action] = @p0, [outcome] = @p1, [detail] = @p2, [started_at] = @p3, [finished_at] = @p4 where [device_id] = @p5 and [action_id] = @p6;select @@rowcount',
      'insert into [ota_actions] ([action], [action_id], [detail], [device_id], [finished_at], [outcome], [started_at]) values (@p0, @p1, @p2, @p3, @p4, @p5, @p6)',
    ]);
  });
});

describe('SQL Server limits at the batch sizes the code uses', () => {
  it('the largest upload batch the app accepts stays under 2,100 parameters per statement', () => {
    const largest = loadAppConfig({ WEATHER_UPLOAD_BATCH: '10000' }).uploadBatchSize;
    expect(() => loadAppConfig({ WEATHER_UPLOAD_BATCH: String(largest + 1) })).toThrow(ConfigError);
    const rows = readings(largest);
    const lookups = existingReadingIdQueries(
      mssql,
      rows.map((r) => r.id),
    ).map(compile);
    const inserts = insertReadingQueries(mssql, rows).map(compile);
    expect(lookups).toHaveLength(Math.ceil(largest / LOOKUP_CHUNK));
    expect(inserts).toHaveLength(Math.ceil(largest / INSERT_CHUNK));
    for (const s of [...lookups, ...inserts]) expectTsql(s);
    expect(inserts.reduce((n, s) => n + s.bindings.length, 0)).toBe(largest * 12);
    expect(Math.max(...inserts.map((s) => s.bindings.length))).toBe(INSERT_CHUNK * 12);
  });

  it('splits at the chunk boundary: a full chunk is one statement, one more row is two', () => {
    const columns = Object.keys(readings(1)[0] ?? {}).length;
    expect(INSERT_CHUNK * columns).toBeLessThanOrEqual(MSSQL_MAX_PARAMETERS);
    expect(INSERT_CHUNK).toBeLessThanOrEqual(MSSQL_MAX_VALUES_ROWS);
    expect(LOOKUP_CHUNK).toBeLessThanOrEqual(MSSQL_MAX_PARAMETERS);

    const full = insertReadingQueries(mssql, readings(INSERT_CHUNK)).map(compile);
    expect(full.map((s) => s.bindings.length)).toEqual([INSERT_CHUNK * columns]);
    const over = insertReadingQueries(mssql, readings(INSERT_CHUNK + 1)).map(compile);
    expect(over.map((s) => s.bindings.length)).toEqual([INSERT_CHUNK * columns, columns]);

    const ids = readings(LOOKUP_CHUNK + 1).map((r) => r.id);
    const lookups = existingReadingIdQueries(mssql, ids).map(compile);
    expect(lookups.map((s) => s.bindings.length)).toEqual([LOOKUP_CHUNK, 1]);
  });
});

describe('the mssql connection', () => {
  const server = {
    WEATHER_DB_CLIENT: 'mssql',
    WEATHER_DB_HOST: 'example.database.windows.net',
    WEATHER_DB_NAME: 'weather',
    WEATHER_DB_USER: 'app',
  };
  const options = (env: Record<string, string>) => {
    const config = knexConfig(loadAppConfig(env).db);
    return (config.connection as { options: Record<string, unknown> }).options;
  };

  it('is encrypted and verifies the certificate by default, as Azure SQL requires', async () => {
    expect(options(server)).toMatchObject({ encrypt: true, trustServerCertificate: false });
    // What knex hands to tedious (knex reads a top-level `encrypt`, then spreads `options` over
    // it): built without connecting, since the pool's minimum is 0.
    const db = knex(knexConfig(loadAppConfig(server).db));
    const tedious = (
      db.client as { _generateConnection(): { options: object } }
    )._generateConnection().options;
    await db.destroy();
    expect(tedious).toMatchObject({ encrypt: true, trustServerCertificate: false, port: 1433 });
  });

  it('WEATHER_DB_ENCRYPT=false and WEATHER_DB_TRUST_SERVER_CERTIFICATE=true override it', () => {
    expect(
      options({
        ...server,
        WEATHER_DB_ENCRYPT: 'false',
        WEATHER_DB_TRUST_SERVER_CERTIFICATE: 'true',
      }),
    ).toMatchObject({ encrypt: false, trustServerCertificate: true });
  });
});

// The console's one dialect-specific statement, the readings downsampled in SQL, compiled in
// knex's mssql dialect (no server: see README, "What was and was not tested").
import knex from 'knex';
import { afterAll, describe, expect, it } from 'vitest';
import { downsampleQuery } from '../../console/src/db/reading-queries.js';

const mssql = knex({ client: 'mssql' });
const pg = knex({ client: 'pg' });
afterAll(async () => {
  await mssql.destroy();
  await pg.destroy();
});

describe('console statements', () => {
  it('bucket readings in T-SQL with DATEDIFF_BIG, bracketed names and @p parameters', () => {
    const { sql, bindings } = downsampleQuery(mssql, 'mssql', 'pi-1', 0, 86_400_000, 43_200)
      .toSQL()
      .toNative();
    expect(sql).toContain("DATEDIFF_BIG(millisecond, '1970-01-01', recorded_at) / @p0 as b");
    expect(sql).toContain('group by [b], [app_version]');
    expect(sql).not.toMatch(/\blimit\b|`/i);
    expect(bindings[0]).toBe(43_200);
    expect(bindings).toContain('pi-1');
  });

  it('and in PostgreSQL from the epoch of the timestamp', () => {
    const { sql } = downsampleQuery(pg, 'postgres', 'pi-1', 0, 1, 1_000).toSQL().toNative();
    expect(sql).toContain('floor(extract(epoch from recorded_at) * 1000 / $1) as b');
  });
});

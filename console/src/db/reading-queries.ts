import type { Knex } from 'knex';
import type { DbClient } from '../../../common/db-config.js';
import { toMs } from './time-value.js';

/** Columnar series for a chart: one entry per (time bucket, version) that holds readings. */
export interface ReadingSeries {
  readonly from: number | null;
  readonly to: number | null;
  readonly bucketMs: number;
  readonly versions: string[];
  /** Milliseconds since the epoch: the first reading of the bucket and version. */
  readonly t: number[];
  /** Index into `versions`: the version that produced the readings. */
  readonly version: number[];
  readonly temperature: number[];
  readonly humidity: number[];
  readonly pressure: number[];
  readonly wind: number[];
  readonly precipitation: number[];
  /** Readings averaged into each point. */
  readonly count: number[];
}

export const DEFAULT_POINTS = 2_000;

/** The bucket number of a reading: epoch milliseconds divided by the bucket width, floored. */
function bucketExpression(client: DbClient): string {
  switch (client) {
    // knex stores Dates as epoch milliseconds in SQLite; better-sqlite3 binds the width as a
    // REAL, so the quotient is cast to floor it.
    case 'sqlite':
      return 'CAST(recorded_at / ? AS INTEGER)';
    case 'postgres':
      return 'floor(extract(epoch from recorded_at) * 1000 / ?)';
    case 'mssql':
      return "DATEDIFF_BIG(millisecond, '1970-01-01', recorded_at) / ?";
  }
}

export async function readingRange(db: Knex, deviceId: string) {
  const row = (await db('readings')
    .where('device_id', deviceId)
    .min({ first: 'recorded_at' })
    .max({ last: 'recorded_at' })
    .first()) as { first: unknown; last: unknown } | undefined;
  return { first: toMs(row?.first), last: toMs(row?.last) };
}

/**
 * A device's readings between two instants averaged in SQL into about `points` buckets per
 * version, so a year at one reading a minute (525,600 rows) leaves the database as a few
 * thousand rows. A bucket that spans an update gives one point per version.
 */
export async function downsampledReadings(
  db: Knex,
  client: DbClient,
  deviceId: string,
  window: { from?: number | undefined; to?: number | undefined },
  points = DEFAULT_POINTS,
): Promise<ReadingSeries> {
  const range = await readingRange(db, deviceId);
  const from = window.from ?? range.first;
  const to = window.to ?? range.last;
  if (from === undefined || to === undefined || to < from) return emptySeries(60_000);
  const bucketMs = Math.max(1_000, Math.ceil((to - from + 1) / points));
  const rows = (await downsampleQuery(db, client, deviceId, from, to, bucketMs)) as Record<
    string,
    unknown
  >[];
  const series = emptySeries(bucketMs, from, to);
  const ordered = rows.map((row) => ({ row, ms: toMs(row.t) ?? 0 })).sort((a, b) => a.ms - b.ms);
  for (const { row, ms } of ordered) {
    push(series, ms, String(row.app_version), row);
    series.count.push(Number(row.n));
  }
  return series;
}

/** Per (bucket, version): the first reading's time, the averages and how many were averaged. */
export function downsampleQuery(
  db: Knex,
  client: DbClient,
  deviceId: string,
  from: number,
  to: number,
  bucketMs: number,
) {
  const inner = db('readings')
    .select(
      db.raw(`${bucketExpression(client)} as b`, [bucketMs]),
      'app_version',
      'recorded_at',
      'temperature_c',
      'humidity_pct',
      'pressure_hpa',
      'wind_speed_ms',
      'precipitation_mm',
    )
    .where('device_id', deviceId)
    .andWhere('recorded_at', '>=', new Date(from))
    .andWhere('recorded_at', '<=', new Date(to))
    .as('r');
  return db
    .from(inner)
    .select('b', 'app_version')
    .min({ t: 'recorded_at' })
    .avg({ temperature: 'temperature_c' })
    .avg({ humidity: 'humidity_pct' })
    .avg({ pressure: 'pressure_hpa' })
    .avg({ wind: 'wind_speed_ms' })
    .avg({ precipitation: 'precipitation_mm' })
    .count({ n: '*' })
    .groupBy('b', 'app_version');
}

/** The alternative the bench measures against: every reading in the window, as stored. */
export async function allReadings(
  db: Knex,
  deviceId: string,
  window: { from?: number | undefined; to?: number | undefined },
): Promise<ReadingSeries> {
  const q = db('readings')
    .select(
      'recorded_at as t',
      'app_version',
      'temperature_c as temperature',
      'humidity_pct as humidity',
      'pressure_hpa as pressure',
      'wind_speed_ms as wind',
      'precipitation_mm as precipitation',
    )
    .where('device_id', deviceId)
    .orderBy('recorded_at');
  if (window.from !== undefined) q.andWhere('recorded_at', '>=', new Date(window.from));
  if (window.to !== undefined) q.andWhere('recorded_at', '<=', new Date(window.to));
  const rows = (await q) as Record<string, unknown>[];
  const series = emptySeries(0, window.from ?? null, window.to ?? null);
  for (const r of rows) {
    push(series, toMs(r.t) ?? 0, String(r.app_version), r);
    series.count.push(1);
  }
  return series;
}

function emptySeries(bucketMs: number, from: number | null = null, to: number | null = null) {
  return {
    from,
    to,
    bucketMs,
    versions: [] as string[],
    t: [] as number[],
    version: [] as number[],
    temperature: [] as number[],
    humidity: [] as number[],
    pressure: [] as number[],
    wind: [] as number[],
    precipitation: [] as number[],
    count: [] as number[],
  };
}

const round = (v: unknown) => Math.round(Number(v) * 100) / 100;

function push(
  s: ReturnType<typeof emptySeries>,
  ms: number,
  version: string,
  r: Record<string, unknown>,
) {
  let index = s.versions.indexOf(version);
  if (index < 0) index = s.versions.push(version) - 1;
  s.t.push(ms);
  s.version.push(index);
  s.temperature.push(round(r.temperature));
  s.humidity.push(round(r.humidity));
  s.pressure.push(round(r.pressure));
  s.wind.push(round(r.wind));
  s.precipitation.push(round(r.precipitation));
}

import type { Knex } from 'knex';
import type { Reading } from '../sensor/reading.js';

/**
 * Every statement the app sends to the central database, built on the knex instance (or
 * transaction) it is given, so a unit test compiles the very same builders in the mssql dialect
 * without a server (test/unit/mssql-statements.test.ts).
 */

/**
 * SQL Server takes 2,100 parameters per request, two of which sp_executesql (tedious' way of
 * sending parameters) uses itself; a VALUES list also holds at most 1,000 rows.
 */
export const MSSQL_MAX_PARAMETERS = 2_098;
export const MSSQL_MAX_VALUES_ROWS = 1_000;

// 12 columns x 150 rows = 1,800 parameters per insert; 500 ids per lookup.
export const INSERT_CHUNK = 150;
export const LOOKUP_CHUNK = 500;

export type ReadingRow = ReturnType<typeof readingRow>;

export function readingRow(reading: Reading, uploadedAt: Date) {
  return {
    id: reading.id,
    device_id: reading.deviceId,
    app_version: reading.appVersion,
    recorded_at: new Date(reading.recordedAt),
    temperature_c: reading.temperatureC,
    humidity_pct: reading.humidityPct,
    pressure_hpa: reading.pressureHpa,
    wind_speed_ms: reading.windSpeedMs,
    wind_direction_deg: reading.windDirectionDeg,
    precipitation_mm: reading.precipitationMm,
    condition: reading.condition,
    uploaded_at: uploadedAt,
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Which of these reading ids the database already holds: one select per LOOKUP_CHUNK ids. */
export function existingReadingIdQueries(db: Knex, ids: readonly string[]) {
  return chunks(ids, LOOKUP_CHUNK).map((part) => db('readings').select('id').whereIn('id', part));
}

/** Inserts of new readings: one statement per INSERT_CHUNK rows. */
export function insertReadingQueries(db: Knex, rows: readonly ReadingRow[]) {
  return chunks(rows, INSERT_CHUNK).map((part) => db('readings').insert(part));
}

export interface DeviceChanges {
  readonly hostname: string;
  readonly app_version: string;
  readonly last_seen: Date;
  readonly status: string;
}

/** Resolves to the number of rows updated (knex appends `select @@rowcount` on SQL Server). */
export function updateDeviceQuery(db: Knex, id: string, changes: DeviceChanges) {
  return db('devices').where({ id }).update(changes);
}

export function insertDeviceQuery(db: Knex, id: string, firstSeen: Date, changes: DeviceChanges) {
  return db('devices').insert({ id, first_seen: firstSeen, ...changes });
}

/** Retention: only this device's readings recorded before `before`. */
export function deleteOwnReadingsQuery(db: Knex, deviceId: string, before: Date) {
  return db('readings').where('device_id', deviceId).andWhere('recorded_at', '<', before).delete();
}

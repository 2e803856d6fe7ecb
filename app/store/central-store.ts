import type { Knex } from 'knex';
import type { Reading } from '../sensor/reading.js';

// SQL Server allows 2,100 parameters per statement; 12 columns x 150 rows stays under it.
const INSERT_CHUNK = 150;
const LOOKUP_CHUNK = 500;

export interface DeviceRecord {
  readonly id: string;
  readonly hostname: string;
  readonly appVersion: string;
  readonly status: 'online' | 'stopped';
}

function toRow(reading: Reading, uploadedAt: Date) {
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

/** The central database as the app sees it: readings and this device's row. */
export class CentralStore {
  constructor(private readonly db: Knex) {}

  async migrate(): Promise<void> {
    await this.db.migrate.latest();
  }

  /**
   * Inserts readings that are not there yet, in one transaction. Re-sending a batch is harmless,
   * which is what makes the uploader's retries and crash recovery safe. Returns how many rows
   * were new.
   */
  async insertReadings(readings: readonly Reading[], now: Date): Promise<number> {
    if (readings.length === 0) return 0;
    return this.db.transaction(async (trx) => {
      const existing = new Set<string>();
      for (let i = 0; i < readings.length; i += LOOKUP_CHUNK) {
        const ids = readings.slice(i, i + LOOKUP_CHUNK).map((r) => r.id);
        const rows: { id: string }[] = await trx('readings').select('id').whereIn('id', ids);
        for (const row of rows) existing.add(row.id);
      }
      const fresh = readings.filter((r) => !existing.has(r.id)).map((r) => toRow(r, now));
      for (let i = 0; i < fresh.length; i += INSERT_CHUNK) {
        await trx('readings').insert(fresh.slice(i, i + INSERT_CHUNK));
      }
      return fresh.length;
    });
  }

  /** Upserts this device's row; portable (no dialect-specific MERGE/ON CONFLICT). */
  async touchDevice(device: DeviceRecord, now: Date): Promise<void> {
    const changes = {
      hostname: device.hostname,
      app_version: device.appVersion,
      last_seen: now,
      status: device.status,
    };
    const updated = await this.db('devices').where({ id: device.id }).update(changes);
    if (updated > 0) return;
    try {
      await this.db('devices').insert({ id: device.id, first_seen: now, ...changes });
    } catch (err) {
      // Another process of this device inserted the row in between: update it instead.
      const again = await this.db('devices').where({ id: device.id }).update(changes);
      if (again === 0) throw err;
    }
  }

  /** Retention: deletes only this device's readings recorded before `before`. */
  async deleteOwnReadingsBefore(deviceId: string, before: Date): Promise<number> {
    return this.db('readings')
      .where('device_id', deviceId)
      .andWhere('recorded_at', '<', before)
      .delete();
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

import type { Knex } from 'knex';
import type { Reading } from '../sensor/reading.js';
import {
  deleteOwnReadingsQuery,
  existingReadingIdQueries,
  insertDeviceQuery,
  insertReadingQueries,
  readingRow,
  updateDeviceQuery,
} from './central-queries.js';

export interface DeviceRecord {
  readonly id: string;
  readonly hostname: string;
  readonly appVersion: string;
  readonly status: 'online' | 'stopped';
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
      const ids = readings.map((r) => r.id);
      for (const lookup of existingReadingIdQueries(trx, ids)) {
        const rows: { id: string }[] = await lookup;
        for (const row of rows) existing.add(row.id);
      }
      const fresh = readings.filter((r) => !existing.has(r.id)).map((r) => readingRow(r, now));
      for (const insert of insertReadingQueries(trx, fresh)) await insert;
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
    const updated = await updateDeviceQuery(this.db, device.id, changes);
    if (updated > 0) return;
    try {
      await insertDeviceQuery(this.db, device.id, now, changes);
    } catch (err) {
      // Another process of this device inserted the row in between: update it instead.
      const again = await updateDeviceQuery(this.db, device.id, changes);
      if (again === 0) throw err;
    }
  }

  /** Retention: deletes only this device's readings recorded before `before`. */
  async deleteOwnReadingsBefore(deviceId: string, before: Date): Promise<number> {
    return deleteOwnReadingsQuery(this.db, deviceId, before);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

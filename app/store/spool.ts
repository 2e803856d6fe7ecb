import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { enableWal } from '../../common/sqlite-wal.js';
import { SpoolWriteError } from '../errors.js';
import type { Reading } from '../sensor/reading.js';

/**
 * The device-local, durable queue of readings: a SQLite file on the data volume. A reading is
 * safe once `append` returns. Several app processes (old and new version during an update) may
 * share the file; `claim` hands each pending reading to one uploader at a time by a lease.
 */
export class Spool {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { timeout: 10_000 });
    enableWal(this.db);
    // FULL: a reading reported stored survives a power cut, not just a process crash.
    this.db.pragma('synchronous = FULL');
    this.migrate();
    this.insert = this.db.prepare(
      'INSERT OR IGNORE INTO spool (id, payload, created_at) VALUES (?, ?, ?)',
    );
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version < 1) {
      this.db
        .transaction(() => {
          this.db.exec(`
          CREATE TABLE IF NOT EXISTS spool (
            id TEXT PRIMARY KEY,
            payload TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            claimed_by TEXT,
            claim_expires INTEGER,
            sent_at INTEGER
          );
          CREATE INDEX IF NOT EXISTS spool_pending ON spool (sent_at, created_at);
        `);
          this.db.pragma('user_version = 1');
        })
        .immediate();
    }
  }

  /**
   * Stores a reading durably. False when the spool already held its id: another process (the
   * other version during a switch) stored the reading for the same slot first.
   */
  append(reading: Reading, now = Date.now()): boolean {
    try {
      return this.insert.run(reading.id, JSON.stringify(reading), now).changes > 0;
    } catch (cause) {
      throw new SpoolWriteError(this.path, { cause });
    }
  }

  /**
   * Leases up to `limit` unsent readings to `owner` until `now + leaseMs`. The owner's own
   * earlier leases are renewed, so a retried upload re-sends the same batch.
   */
  claim(owner: string, limit: number, now: number, leaseMs: number): Reading[] {
    const take = this.db.transaction(() => {
      const rows = this.db
        .prepare(
          `SELECT id, payload FROM spool
           WHERE sent_at IS NULL AND (claimed_by IS NULL OR claimed_by = ? OR claim_expires < ?)
           ORDER BY created_at, id LIMIT ?`,
        )
        .all(owner, now, limit) as { id: string; payload: string }[];
      const lease = this.db.prepare(
        'UPDATE spool SET claimed_by = ?, claim_expires = ? WHERE id = ?',
      );
      for (const row of rows) lease.run(owner, now + leaseMs, row.id);
      return rows.map((row) => JSON.parse(row.payload) as Reading);
    });
    return take.immediate();
  }

  /** Marks readings as confirmed by the central database. */
  markSent(ids: readonly string[], now: number): void {
    const mark = this.db.prepare(
      'UPDATE spool SET sent_at = ?, claimed_by = NULL, claim_expires = NULL WHERE id = ?',
    );
    this.db
      .transaction(() => {
        for (const id of ids) mark.run(now, id);
      })
      .immediate();
  }

  /** Gives up `owner`'s leases (on shutdown) so another process can send them at once. */
  release(owner: string): void {
    this.db
      .prepare(
        'UPDATE spool SET claimed_by = NULL, claim_expires = NULL WHERE claimed_by = ? AND sent_at IS NULL',
      )
      .run(owner);
  }

  /** Deletes readings that were sent before `before`; unsent readings are never deleted. */
  pruneSent(before: number): number {
    return this.db
      .prepare('DELETE FROM spool WHERE sent_at IS NOT NULL AND sent_at < ?')
      .run(before).changes;
  }

  counts(): { pending: number; sent: number } {
    const row = this.db
      .prepare(
        'SELECT SUM(sent_at IS NULL) AS pending, SUM(sent_at IS NOT NULL) AS sent FROM spool',
      )
      .get() as { pending: number | null; sent: number | null };
    return { pending: row.pending ?? 0, sent: row.sent ?? 0 };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

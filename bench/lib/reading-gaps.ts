// Reads the weather app's central SQLite database off a data volume and measures the holes in
// the series of readings.
import { docker } from '../../test/helpers/docker-cli.js';

/**
 * Run inside the app image (cwd /app, so better-sqlite3 resolves from /app/node_modules): the
 * device's uploaded readings from weather.db, and readings still only in the spool (a batch
 * leased by a process that has stopped is uploaded by the next one after its lease).
 */
const DUMP = `
const Database = require('better-sqlite3');
const ms = (v) => (typeof v === 'number' ? v : Date.parse(v));
const central = new Database('/data/weather.db', { fileMustExist: true });
const uploaded = central
  .prepare('SELECT id, recorded_at FROM readings WHERE device_id = ?')
  .all(process.argv[1])
  .map((r) => [r.id, ms(r.recorded_at)]);
const spool = new Database('/data/spool.db', { fileMustExist: true });
const pending = spool
  .prepare('SELECT payload FROM spool WHERE sent_at IS NULL')
  .all()
  .map((r) => JSON.parse(r.payload))
  .map((r) => [r.id, Date.parse(r.recordedAt)]);
console.log(JSON.stringify({ uploaded, pending }));
`;

export interface GapReport {
  /** Readings in the central database. */
  readonly uploaded: number;
  /** Readings still waiting in the spool when the series ended. */
  readonly pending: number;
  /** Readings a single process at one reading per interval would have taken over the span. */
  readonly expected: number;
  /** Consecutive readings further apart than 1.5 intervals. */
  readonly gaps: number;
  /** Reading slots lost in those gaps (a 2.9 s gap at 1 s loses 2). */
  readonly missed: number;
  readonly longestMs: number;
  /** Consecutive readings under half an interval apart: two processes sampling at once. */
  readonly doubled: number;
}

export async function readingGaps(
  volume: string,
  image: string,
  deviceId: string,
  intervalMs: number,
): Promise<GapReport> {
  const out = await docker([
    'run',
    '--rm',
    '--network',
    'none',
    '-v',
    `${volume}:/data`,
    '--entrypoint',
    'node',
    image,
    '-e',
    DUMP,
    deviceId,
  ]);
  type Rows = [id: string, at: number][];
  const { uploaded, pending } = JSON.parse(out) as { uploaded: Rows; pending: Rows };
  // Pending ones count as readings: they are stored durably and will be uploaded.
  const times = [...new Map([...pending, ...uploaded]).values()].sort((a, b) => a - b);
  let gaps = 0;
  let missed = 0;
  let longestMs = 0;
  let doubled = 0;
  for (let i = 1; i < times.length; i++) {
    const gap = (times[i] ?? 0) - (times[i - 1] ?? 0);
    longestMs = Math.max(longestMs, gap);
    if (gap < 0.5 * intervalMs) doubled += 1;
    if (gap > 1.5 * intervalMs) {
      gaps += 1;
      missed += Math.round(gap / intervalMs) - 1;
    }
  }
  const span = times.length > 1 ? (times.at(-1) ?? 0) - (times[0] ?? 0) : 0;
  return {
    uploaded: uploaded.length,
    pending: times.length - uploaded.length,
    expected: Math.floor(span / intervalMs) + 1,
    gaps,
    missed,
    longestMs,
    doubled,
  };
}

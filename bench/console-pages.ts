// How long each console page takes to produce over a fleet of 1,000 devices and one device
// with a year of readings at one a minute (525,600 rows), on SQLite and PostgreSQL: the
// device page's readings downsampled in SQL next to fetching every row. Times are the
// server's work for a page's JSON (queries, model, serialisation), median of 5 after a warm-up.
// Usage: npm run build && node dist/bench/console-pages.js
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex, { type Knex } from 'knex';
import type { DbClient } from '../common/db-config.js';
import { ConsoleData } from '../console/src/console-data.js';
import { allReadings, downsampledReadings } from '../console/src/db/reading-queries.js';
import { TestPostgres } from '../test/helpers/postgres.js';
import { loadTestEnv, median, printTable, timed } from './lib/bench-env.js';
import { seedBenchFleet, YEAR_DEVICE, YEAR_READINGS } from './lib/console-fleet-seed.js';

const DEVICES = 1_000;
const RUNS = 5;
const STALE_MS = 10 * 60_000;
const NOW = Math.floor(Date.now() / 60_000) * 60_000;

type Row = readonly [string, string, string];

async function measure(fn: () => Promise<unknown>): Promise<{ ms: number; bytes: number }> {
  let bytes = JSON.stringify(await fn()).length;
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const { ms, value } = await timed(async () => JSON.stringify(await fn()));
    times.push(ms);
    bytes = value.length;
  }
  return { ms: median(times), bytes };
}

async function pages(name: string, db: Knex, client: DbClient): Promise<Row[]> {
  const data = new ConsoleData(db, client, STALE_MS, () => NOW);
  const year = { from: undefined, to: undefined };
  const week = { from: NOW - 7 * 86_400_000, to: undefined };
  const cases: [string, () => Promise<unknown>][] = [
    ['fleet page (/api/fleet)', () => data.fleet()],
    ['releases page (/api/releases)', () => data.releases()],
    ['device page (/api/devices/:id)', () => data.device(YEAR_DEVICE)],
    [
      'readings, a year, downsampled in SQL',
      () => downsampledReadings(db, client, YEAR_DEVICE, year),
    ],
    ['readings, a year, every row (no downsampling)', () => allReadings(db, YEAR_DEVICE, year)],
    [
      'readings, 7 days, downsampled in SQL',
      () => downsampledReadings(db, client, YEAR_DEVICE, week),
    ],
    ['readings, 7 days, every row', () => allReadings(db, YEAR_DEVICE, week)],
  ];
  const rows: Row[] = [];
  for (const [label, fn] of cases) {
    const { ms, bytes } = await measure(fn);
    rows.push([
      name,
      label,
      `${ms.toFixed(0).padStart(6)} ms  ${(bytes / 1024).toFixed(0).padStart(7)} KiB`,
    ]);
  }
  const points = (await downsampledReadings(db, client, YEAR_DEVICE, year)).t.length;
  rows.push([
    name,
    'points sent for a year (downsampled / every row)',
    `${points} / ${YEAR_READINGS}`,
  ]);
  return rows;
}

async function sqlite(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ota-console-bench-'));
  try {
    const filename = join(dir, 'central.db');
    const writer = knex({
      client: 'better-sqlite3',
      connection: { filename },
      useNullAsDefault: true,
    });
    // knex inserts rows into SQLite as one compound SELECT, of at most 500 terms.
    const seeded = await timed(() => seedBenchFleet(writer, DEVICES, NOW, 400));
    await writer.destroy();
    const db = knex({
      client: 'better-sqlite3',
      connection: { filename, options: { readonly: true } },
      useNullAsDefault: true,
    });
    try {
      return [
        ['sqlite', 'seeding (not a console figure)', `${(seeded.ms / 1000).toFixed(1)} s`],
        ...(await pages('sqlite', db, 'sqlite')),
      ];
    } finally {
      await db.destroy();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgres(): Promise<Row[]> {
  const pg = await TestPostgres.start();
  const db = knex({
    client: 'pg',
    connection: { host: '127.0.0.1', port: pg.port, user: 'postgres', database: 'postgres' },
  });
  try {
    const seeded = await timed(() => seedBenchFleet(db, DEVICES, NOW, 2_000));
    await db.raw('VACUUM ANALYZE');
    return [
      ['postgres', 'seeding (not a console figure)', `${(seeded.ms / 1000).toFixed(1)} s`],
      ...(await pages('postgres', db, 'postgres')),
    ];
  } finally {
    await db.destroy();
    await pg.destroy();
  }
}

loadTestEnv();
console.log(
  `console pages: ${DEVICES} devices, ${YEAR_READINGS} readings for ${YEAR_DEVICE}; median of ${RUNS}`,
);
printTable([...(await sqlite()), ...(await postgres())]);

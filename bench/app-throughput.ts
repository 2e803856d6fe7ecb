// Prints the weather app's store-and-upload throughput and memory, so changes can be compared.
// Usage: npm run build && node dist/bench/app-throughput.js [readings]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex from 'knex';
import { pino } from 'pino';
import { loadAppConfig } from '../app/config.js';
import { makeReading, type Reading } from '../app/sensor/reading.js';
import { initialWeatherState, nextWeather, seededRandom } from '../app/sensor/weather-model.js';
import { CentralStore } from '../app/store/central-store.js';
import { knexConfig } from '../app/store/knex-config.js';
import { Spool } from '../app/store/spool.js';
import { Uploader } from '../app/store/uploader.js';

const count = Number(process.argv[2] ?? 20_000);
const dir = mkdtempSync(join(tmpdir(), 'bench-app-'));
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

const random = seededRandom(1);
let state = initialWeatherState(Date.now(), random);
const readings: Reading[] = [];
for (let i = 0; i < count; i++) {
  const next = nextWeather(state, state.lastAt + 10_000, random);
  state = next.state;
  readings.push(
    makeReading(next.weather, { deviceId: 'bench', appVersion: '1.0.0', now: state.lastAt }),
  );
}

const rssBefore = process.memoryUsage().rss;
const spool = new Spool(join(dir, 'spool.db'));
let t = performance.now();
for (const r of readings) spool.append(r);
const appendS = (performance.now() - t) / 1000;

const central = new CentralStore(
  knex(knexConfig(loadAppConfig({ WEATHER_DB_FILE: join(dir, 'central.db') }).db)),
);
await central.migrate();
const uploader = new Uploader(
  spool,
  central,
  {
    owner: 'bench',
    batchSize: 500,
    intervalMs: 1000,
    leaseMs: 60_000,
    minRetryMs: 100,
    maxRetryMs: 1000,
    now: Date.now,
  },
  pino({ level: 'silent' }),
);
t = performance.now();
while ((await uploader.uploadOnce()) > 0);
const uploadS = (performance.now() - t) / 1000;
const rssAfter = process.memoryUsage().rss;

console.log(`readings:                ${count}`);
console.log(
  `spool append (durable):  ${(count / appendS).toFixed(0)} readings/s  (${((appendS / count) * 1000).toFixed(2)} ms each, synchronous=FULL)`,
);
console.log(
  `upload to SQLite:        ${(count / uploadS).toFixed(0)} readings/s  (batches of 500)`,
);
console.log(`RSS before / after:      ${mb(rssBefore)} MB / ${mb(rssAfter)} MB`);
console.log(`heap used after:         ${mb(process.memoryUsage().heapUsed)} MB`);

spool.close();
await central.close();
rmSync(dir, { recursive: true, force: true });

import { join } from 'node:path';
import knex from 'knex';
import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadAppConfig } from '../../app/config.js';
import { UploadError } from '../../app/errors.js';
import { CentralStore } from '../../app/store/central-store.js';
import { knexConfig } from '../../app/store/knex-config.js';
import { Spool } from '../../app/store/spool.js';
import { Uploader } from '../../app/store/uploader.js';
import type { DbConfig } from '../../common/db-config.js';
import { sampleReadings } from '../helpers/readings.js';
import { tempDir } from '../helpers/temp-dir.js';

const silent = pino({ level: 'silent' });

function openSpool(dir: string) {
  const spool = new Spool(join(dir, 'spool.db'));
  onTestFinished(() => spool.close());
  return spool;
}

async function openCentral(dir: string) {
  const db = loadAppConfig({ WEATHER_DB_FILE: join(dir, 'central.db') }).db;
  const central = new CentralStore(knex(knexConfig(db)));
  onTestFinished(() => central.close());
  await central.migrate();
  return central;
}

function uploader(spool: Spool, central: CentralStore, owner: string, now = () => Date.now()) {
  return new Uploader(
    spool,
    central,
    { owner, batchSize: 100, intervalMs: 50, leaseMs: 60_000, minRetryMs: 10, maxRetryMs: 50, now },
    silent,
  );
}

describe('spool', () => {
  it('keeps a reading once, and leases each pending reading to one owner at a time', () => {
    const spool = openSpool(tempDir());
    const readings = sampleReadings(10);
    for (const [i, r] of readings.entries()) spool.append(r, i);
    spool.append(readings[0] as (typeof readings)[0], 99);
    expect(spool.counts()).toEqual({ pending: 10, sent: 0 });

    expect(spool.claim('a', 6, 1000, 500)).toHaveLength(6);
    expect(spool.claim('b', 10, 1100, 500).map((r) => r.id)).toEqual(
      readings.slice(6).map((r) => r.id),
    );
    // 'a' renews its own lease; once b's lease has expired, a may take those too.
    expect(spool.claim('a', 10, 1200, 500)).toHaveLength(6);
    expect(spool.claim('a', 10, 1601, 500)).toHaveLength(10);
  });

  it('never prunes unsent readings', () => {
    const spool = openSpool(tempDir());
    const readings = sampleReadings(5);
    for (const r of readings) spool.append(r);
    spool.markSent(
      readings.slice(0, 2).map((r) => r.id),
      1000,
    );
    expect(spool.pruneSent(5000)).toBe(2);
    expect(spool.counts()).toEqual({ pending: 3, sent: 0 });
  });
});

describe('uploader with a real SQLite central database', () => {
  it('uploads every reading once and marks it sent only after the insert', async () => {
    const dir = tempDir();
    const spool = openSpool(dir);
    const central = await openCentral(dir);
    const readings = sampleReadings(250);
    for (const r of readings) spool.append(r);

    const up = uploader(spool, central, 'a');
    expect(await up.uploadOnce()).toBe(100);
    expect(await up.uploadOnce()).toBe(100);
    expect(await up.uploadOnce()).toBe(50);
    expect(await up.uploadOnce()).toBe(0);
    expect(spool.counts()).toEqual({ pending: 0, sent: 250 });
  });

  it('re-sending a batch that the database already has inserts nothing twice', async () => {
    const dir = tempDir();
    const central = await openCentral(dir);
    const readings = sampleReadings(40);
    expect(await central.insertReadings(readings.slice(0, 30), new Date())).toBe(30);
    expect(await central.insertReadings(readings, new Date())).toBe(10);
    const raw = knex(knexConfig({ client: 'sqlite', file: join(dir, 'central.db') } as DbConfig));
    onTestFinished(() => raw.destroy());
    const [row] = await raw('readings').count({ n: '*' });
    expect(Number(row?.n)).toBe(40);
  });

  it('leaves readings pending when the database refuses them', async () => {
    const dir = tempDir();
    const spool = openSpool(dir);
    const central = await openCentral(dir);
    await central.close();
    for (const r of sampleReadings(5)) spool.append(r);
    const up = uploader(spool, central, 'a');
    await expect(up.uploadOnce()).rejects.toBeInstanceOf(UploadError);
    expect(spool.counts()).toEqual({ pending: 5, sent: 0 });
  });

  it('two uploaders sharing one spool send disjoint batches', async () => {
    const dir = tempDir();
    const spool = openSpool(dir);
    const spool2 = openSpool(dir);
    const central = await openCentral(dir);
    for (const r of sampleReadings(1000)) spool.append(r);
    const a = uploader(spool, central, 'a');
    const b = uploader(spool2, central, 'b');
    let sentA = 0;
    let sentB = 0;
    for (;;) {
      const [x, y] = await Promise.all([a.uploadOnce(), b.uploadOnce()]);
      sentA += x;
      sentB += y;
      if (x === 0 && y === 0) break;
    }
    expect(sentA + sentB).toBe(1000);
    expect(sentA).toBeGreaterThan(0);
    expect(sentB).toBeGreaterThan(0);
  }, 60_000); // 1,000 durable appends (fsync each): seconds when the machine is busy
});

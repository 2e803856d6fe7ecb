import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.js';

const SPOOL = join(import.meta.dirname, '../../dist/app/store/spool.js');
const FILES = 300;

/**
 * One of two threads: opens a Spool on each of the files at the same moment as the other thread
 * (a barrier on shared memory before each), and reports the errors it met.
 */
const OPENER = `
const { workerData, parentPort } = require('node:worker_threads');
const { pathToFileURL } = require('node:url');
import(pathToFileURL(workerData.spool).href).then(({ Spool }) => {
  const turn = new Int32Array(workerData.barrier);
  const errors = [];
  const deadline = Date.now() + 60000;
  workerData.files.forEach((file, k) => {
    Atomics.add(turn, 0, 1);
    while (Atomics.load(turn, 0) < 2 * (k + 1)) {
      if (Date.now() > deadline) throw new Error('the other thread never reached the barrier');
    }
    try {
      new Spool(file).close();
    } catch (err) {
      errors.push(String(err && (err.cause || err).message));
    }
  });
  parentPort.postMessage(errors);
});
`;

function openAll(files: string[], barrier: SharedArrayBuffer): Promise<string[]> {
  const worker = new Worker(OPENER, { eval: true, workerData: { spool: SPOOL, files, barrier } });
  return new Promise<string[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  }).finally(() => worker.terminate());
}

describe('two app processes opening a new spool at the same moment', () => {
  it('both open it (SQLite answers one of them SQLITE_BUSY at once while the other turns on WAL)', async () => {
    expect(existsSync(SPOOL), 'run the build first (npm run build)').toBe(true);
    const dir = tempDir();
    const files = Array.from({ length: FILES }, (_, k) => join(dir, `spool-${k}.db`));
    const barrier = new SharedArrayBuffer(4);
    const errors = (await Promise.all([openAll(files, barrier), openAll(files, barrier)])).flat();
    expect(errors).toEqual([]);
    for (const file of files) {
      const db = new Database(file, { readonly: true });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      db.close();
    }
  });
});

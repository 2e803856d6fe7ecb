// The console as an operator runs it on a laptop: built with its own tsconfig into
// console/dist (`npm run --prefix console build`), started with node, stopped with SIGTERM;
// and its hash-password command.
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePasswordHash, verifyPassword } from '../../console/src/password.js';
import { sqliteDatabase } from '../helpers/console-databases.js';
import { seedConsoleFleet } from '../helpers/console-fleet.js';
import { freePort } from '../helpers/free-port.js';
import { tempDirForSuite } from '../helpers/temp-dir.js';

const run = promisify(execFile);
const CONSOLE = join(import.meta.dirname, '../../console');
const MAIN = join(CONSOLE, 'dist/console/src/main.js');
const HASH = join(CONSOLE, 'dist/console/src/hash-password.js');

/** Runs a built console script with an environment and stdin; its exit code and output. */
function node(script: string, env: Record<string, string>, stdin = '') {
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, [script], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
    child.stdin.end(stdin);
  });
}

describe('the built console', () => {
  const dir = tempDirForSuite('ota-console-process-');
  let env: Record<string, string>;

  beforeAll(async () => {
    await run('npx', ['tsc', '-p', join(CONSOLE, 'tsconfig.json')], { cwd: CONSOLE });
    const db = await sqliteDatabase(dir);
    await seedConsoleFleet(db.writer, { rollouts: true });
    env = await db.readOnlyEnv();
  });

  it('serves the pages, uPlot and the data from dist, and stops on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', ...env, CONSOLE_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    afterAll(() => child.kill('SIGKILL'));
    let log = '';
    child.stdout.on('data', (c: Buffer) => (log += c.toString()));
    let errors = '';
    child.stderr.on('data', (c: Buffer) => (errors += c.toString()));
    let gone: number | null | undefined;
    void exited.then((code) => (gone = code));
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (log.includes('console listening')) return resolve();
        if (gone !== undefined) return reject(new Error(`console exited ${gone}: ${errors}${log}`));
        setTimeout(check, 50);
      };
      check();
    });
    const url = `http://127.0.0.1:${port}`;
    for (const path of ['/', '/assets/uPlot.esm.js', '/assets/charts.js', '/api/fleet']) {
      expect((await fetch(`${url}${path}`)).status, path).toBe(200);
    }
    const fleet = (await (await fetch(`${url}/api/fleet`)).json()) as { devices: unknown[] };
    expect(fleet.devices).toHaveLength(8);
    const listening = log.split('\n').find((line) => line.includes('console listening')) ?? '{}';
    expect(JSON.parse(listening)).toMatchObject({ db: 'sqlite', passwordRequired: false });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses a non-loopback address without a password, naming the setting', async () => {
    const { code, err } = await node(MAIN, { ...env, CONSOLE_HOST: '0.0.0.0' });
    expect(code).toBe(2);
    expect(err).toMatch(/^ota console: CONSOLE_PASSWORD_FILE: expected a password hash file/);
  });

  it('hash-password prints a hash of the password on stdin, and refuses a short one', async () => {
    const { code, out } = await node(HASH, {}, 'correct horse battery\n');
    expect(code).toBe(0);
    const hash = parsePasswordHash(out.trim());
    expect(hash).toBeDefined();
    if (hash) {
      expect(await verifyPassword('correct horse battery', hash)).toBe(true);
      expect(await verifyPassword('correct horse', hash)).toBe(false);
    }
    const short = await node(HASH, {}, 'short');
    expect(short.code).toBe(2);
    expect(short.out).toBe('');
  });
});

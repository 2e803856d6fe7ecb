import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);

/**
 * A real PostgreSQL server of the test's own, on loopback, in a temp directory: a network
 * database that can be stopped and started to simulate an outage. Binaries come from
 * OTA_PG_BIN (set by scripts/provision.sh).
 */
export class TestPostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
  ) {}

  static async start(): Promise<TestPostgres> {
    const bin = process.env.OTA_PG_BIN;
    if (!bin) throw new Error('OTA_PG_BIN is not set: run the tests with `npm test`');
    const dir = mkdtempSync(join(tmpdir(), 'ota-pg-'));
    const pg = new TestPostgres(dir, await freePort(), bin);
    if (process.getuid?.() === 0) chownSync(dir, ...(await pg.postgresUid()));
    await pg.exec('initdb', [
      '-D',
      join(dir, 'data'),
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
    ]);
    await pg.resume();
    return pg;
  }

  private async postgresUid(): Promise<[number, number]> {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    return [Number(stdout.trim()), Number(gid.trim())];
  }

  /** Runs a PostgreSQL binary, as the postgres user when we are root (postgres refuses root). */
  private exec(tool: string, args: string[]) {
    const path = join(this.bin, tool);
    return process.getuid?.() === 0
      ? run('runuser', ['-u', 'postgres', '--', path, ...args])
      : run(path, args);
  }

  async resume(): Promise<void> {
    await this.exec('pg_ctl', [
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'server.log'),
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1`,
      '-w',
      'start',
    ]);
  }

  /** Stops the server the way an outage would: connections are cut. */
  async pause(): Promise<void> {
    await this.exec('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  }

  get env(): Record<string, string> {
    return {
      WEATHER_DB_CLIENT: 'postgres',
      WEATHER_DB_HOST: '127.0.0.1',
      WEATHER_DB_PORT: String(this.port),
      WEATHER_DB_NAME: 'postgres',
      WEATHER_DB_USER: 'postgres',
      WEATHER_DB_ENCRYPT: 'false',
    };
  }

  async destroy(): Promise<void> {
    await this.pause().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

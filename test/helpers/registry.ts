import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export interface RegistryUser {
  readonly user: string;
  readonly password: string;
}

/**
 * A real Docker distribution registry of the test's own on loopback (127.0.0.0/8 is an insecure
 * registry by default, so the engine pushes and pulls over plain HTTP), storing into a temp
 * directory. Binary: OTA_REGISTRY_BIN (set by scripts/provision.sh).
 */
export class TestRegistry {
  private constructor(
    private readonly dir: string,
    private readonly child: ChildProcess,
    /** host:port, the registry part of an image reference. */
    readonly address: string,
    private readonly output: string[],
  ) {}

  static async start(options: { htpasswd?: RegistryUser } = {}): Promise<TestRegistry> {
    const bin = process.env.OTA_REGISTRY_BIN;
    if (!bin) throw new Error('OTA_REGISTRY_BIN is not set: run the tests with `npm test`');
    const dir = mkdtempSync(join(tmpdir(), 'ota-registry-'));
    try {
      const address = `127.0.0.1:${await freePort()}`;
      const lines = [
        'version: 0.1',
        'log: {level: warn}',
        `storage: {filesystem: {rootdirectory: ${join(dir, 'data')}}, delete: {enabled: true}}`,
        `http: {addr: ${address}}`,
      ];
      if (options.htpasswd) {
        const { user, password } = options.htpasswd;
        const hash = bcryptHash(password);
        if (!hash) throw new Error('no bcrypt tool: check bcryptAvailable() before using auth');
        writeFileSync(join(dir, 'htpasswd'), `${user}:${hash}\n`);
        lines.push(`auth: {htpasswd: {realm: ota-test, path: ${join(dir, 'htpasswd')}}}`);
      }
      writeFileSync(join(dir, 'config.yml'), `${lines.join('\n')}\n`);

      const output: string[] = [];
      const child = spawn(bin, ['serve', join(dir, 'config.yml')], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const keep = (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter(Boolean));
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      const registry = new TestRegistry(dir, child, address, output);
      await registry.waitReady(15_000).catch(async (err) => {
        await registry.stop();
        throw err;
      });
      return registry;
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null) {
        throw new Error(`registry exited (${this.child.exitCode}):\n${this.output.join('\n')}`);
      }
      // 200 without auth, 401 with: both mean the API answers.
      const status = await fetch(`http://${this.address}/v2/`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200 || status === 401) return;
      if (Date.now() > deadline) {
        throw new Error(`registry not ready after ${timeoutMs} ms:\n${this.output.join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Tags a local image as <address>/<repository>:<tag> and pushes it, logging in if needed. */
  async push(localImage: string, repository: string, tag: string, auth?: RegistryUser) {
    const ref = `${this.address}/${repository}:${tag}`;
    await run('docker', ['tag', localImage, ref]);
    try {
      if (auth) {
        const login = run('docker', ['login', '-u', auth.user, '--password-stdin', this.address]);
        login.child.stdin?.end(auth.password);
        await login;
      }
      await run('docker', ['push', ref], { timeout: 120_000 });
    } finally {
      if (auth) await run('docker', ['logout', this.address]).catch(() => undefined);
      // The local tag would otherwise make the engine's pull a no-op.
      await run('docker', ['rmi', ref]).catch(() => undefined);
    }
    return ref;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A bcrypt hash for an htpasswd file (the registry accepts nothing else), without a bcrypt
 * dependency: apache2-utils' `htpasswd` if installed, else the system crypt(3) through perl
 * (Debian's libxcrypt implements $2b$). Undefined when neither can produce one.
 */
export function bcryptHash(password: string): string | undefined {
  try {
    const out = execFileSync('htpasswd', ['-nbB', 'u', password], { stdio: 'pipe' }).toString();
    const hash = out.trim().split(':')[1];
    if (hash?.startsWith('$2')) return hash;
  } catch {
    // not installed: try the next tool
  }
  try {
    // The 22nd salt character carries only 2 bits; crypt(3) rejects the other 60 choices.
    const bytes = [...randomBytes(22)];
    const salt = bytes.map((b, i) => BCRYPT_ALPHABET[i < 21 ? b % 64 : (b % 4) * 16]).join('');
    const hash = execFileSync(
      'perl',
      ['-e', 'print crypt($ARGV[0], $ARGV[1])', password, `$2b$10$${salt}`],
      {
        stdio: 'pipe',
      },
    ).toString();
    if (/^\$2b\$10\$[./A-Za-z0-9]{53}$/.test(hash)) return hash;
  } catch {
    // no perl
  }
  return undefined;
}

export function bcryptAvailable(): boolean {
  return bcryptHash('probe') !== undefined;
}

import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What a user's app repository holds for Dockerfile.app to build the weather app. */
export const APP_FILES = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.app.json',
  'Dockerfile.app',
  '.dockerignore',
  'common',
  'app',
];

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Release Bot',
  GIT_AUTHOR_EMAIL: 'release@example.com',
  GIT_COMMITTER_NAME: 'Release Bot',
  GIT_COMMITTER_EMAIL: 'release@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  HOME: '/nonexistent',
};

/**
 * A real git repository made by a test: a working repo that commits and tags, pushing to a
 * bare repository under a GitHttpServer's root.
 */
export class TestRepo {
  private constructor(
    readonly work: string,
    readonly bare: string,
  ) {}

  static async create(dir: string, serverRoot: string, name: string): Promise<TestRepo> {
    const work = join(dir, `${name}-work`);
    const bare = join(serverRoot, `${name}.git`);
    mkdirSync(work, { recursive: true });
    const repo = new TestRepo(work, bare);
    await run('git', ['init', '--quiet', '--bare', bare], { env: { ...process.env, ...GIT_ENV } });
    await repo.git('init', '--quiet', '-b', 'main');
    await repo.commit('initial', { 'README.md': '# app\n' });
    return repo;
  }

  async git(...args: string[]): Promise<string> {
    return this.gitWith({}, ...args);
  }

  private async gitWith(env: Record<string, string>, ...args: string[]): Promise<string> {
    const { stdout } = await run('git', args, {
      cwd: this.work,
      env: { ...process.env, ...GIT_ENV, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout.trim();
  }

  async commit(message: string, files: Record<string, string> = {}): Promise<string> {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(this.work, path, '..'), { recursive: true });
      writeFileSync(join(this.work, path), content);
    }
    await this.git('add', '-A');
    await this.git('commit', '--quiet', '--allow-empty', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }

  /** An annotated tag on HEAD (or `commit`), optionally SSH-signed, force-pushed to the bare repo. */
  async tag(
    name: string,
    opts: { commit?: string; signingKey?: string; lightweight?: boolean; gpg?: GpgKey } = {},
  ) {
    const target = opts.commit ?? 'HEAD';
    if (opts.lightweight) await this.git('tag', '-f', name, target);
    else if (opts.gpg) {
      await this.gitWith(
        { GNUPGHOME: opts.gpg.home },
        ...['-c', 'gpg.format=openpgp', '-c', `user.signingkey=${opts.gpg.uid}`],
        ...['tag', '-f', '-s', '-m', name, name, target],
      );
    } else if (opts.signingKey) {
      await this.git(
        '-c',
        'gpg.format=ssh',
        '-c',
        `user.signingkey=${opts.signingKey}`,
        'tag',
        '-f',
        '-s',
        '-m',
        name,
        name,
        target,
      );
    } else await this.git('tag', '-f', '-a', '-m', name, name, target);
    await this.git('push', '--quiet', '--force', this.bare, `refs/tags/${name}`);
  }

  /** Many tags at once (one push), e.g. 10,000 for the cost measurements. */
  async tagMany(names: readonly string[]): Promise<void> {
    // The commit must be in the bare repository before refs there may point to it.
    await this.git('push', '--quiet', this.bare, 'main');
    const head = await this.git('rev-parse', 'HEAD');
    const packed = names.map((n) => `${head} refs/tags/${n}`).join('\n');
    // Lightweight tags written straight into packed-refs: seconds instead of minutes.
    const file = join(this.bare, 'packed-refs');
    let existing = '';
    try {
      existing = readFileSync(file, 'utf8').replace(/^#.*\n/, '');
    } catch {
      existing = '';
    }
    // Without the "sorted" trait git sorts the file itself when it reads it.
    writeFileSync(file, `# pack-refs with: peeled fully-peeled \n${existing}${packed}\n`);
    await this.git('push', '--quiet', this.bare, 'main');
  }

  /** Commits ota-policy.json on the `ota-policy` branch (optionally SSH-signed) and pushes it. */
  async setPolicy(text: string, opts: { signingKey?: string } = {}): Promise<string> {
    const branches = await this.git('branch', '--list', 'ota-policy');
    if (branches) await this.git('checkout', '--quiet', 'ota-policy');
    else {
      await this.git('checkout', '--quiet', '--orphan', 'ota-policy');
      await this.git('rm', '-rf', '--quiet', '.');
    }
    writeFileSync(join(this.work, 'ota-policy.json'), text);
    await this.git('add', 'ota-policy.json');
    const sign = opts.signingKey
      ? ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${opts.signingKey}`]
      : [];
    await this.git(
      ...sign,
      'commit',
      '--quiet',
      '--allow-empty',
      ...(opts.signingKey ? ['-S'] : []),
      '-m',
      'policy',
    );
    const commit = await this.git('rev-parse', 'HEAD');
    await this.git('push', '--quiet', '--force', this.bare, 'ota-policy');
    await this.git('checkout', '--quiet', 'main');
    return commit;
  }

  /** Copies this project's weather app (what Dockerfile.app builds) into the working tree. */
  copyApp(projectRoot: string): void {
    for (const f of APP_FILES) {
      cpSync(join(projectRoot, f), join(this.work, f), { recursive: true });
    }
  }

  async push(): Promise<void> {
    await this.git('push', '--quiet', this.bare, 'main');
  }
}

/** An ed25519 key pair and an allowed-signers file naming `principal`. */
export async function makeSigningKey(dir: string, principal: string) {
  const key = join(dir, `${principal.replace(/\W/g, '_')}_ed25519`);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', principal, '-f', key]);
  const allowedSigners = join(dir, `${principal.replace(/\W/g, '_')}_allowed_signers`);
  writeFileSync(allowedSigners, `${principal} ${readFileSync(`${key}.pub`, 'utf8')}`);
  return { key, pub: `${key}.pub`, allowedSigners };
}

export interface GpgKey {
  /** The signer's own GNUPGHOME, holding the secret key. */
  readonly home: string;
  readonly uid: string;
  /** The public key, armored, as `gpg --export --armor` writes it. */
  readonly publicKeys: string;
}

/** A GPG signing key (ed25519, no passphrase) in a keyring of its own, and its public key file. */
export async function makeGpgKey(dir: string, email: string): Promise<GpgKey> {
  const home = join(dir, `gnupg-${email.replace(/\W/g, '_')}`);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const uid = `Release <${email}>`;
  const env = { ...process.env, GNUPGHOME: home };
  await run(
    'gpg',
    ['--batch', '--passphrase', '', '--quick-gen-key', uid, 'ed25519', 'sign', 'never'],
    {
      env,
    },
  );
  const { stdout } = await run('gpg', ['--export', '--armor', email], { env });
  const publicKeys = join(dir, `${email.replace(/\W/g, '_')}.asc`);
  writeFileSync(publicKeys, stdout);
  return { home, uid, publicKeys };
}

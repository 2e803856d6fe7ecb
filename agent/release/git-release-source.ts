import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pRetry, { AbortError } from 'p-retry';
import type { SimpleGit } from 'simple-git';
import { ReleaseSourceError } from '../errors.js';
import type { AgentLogger } from '../log.js';
import { sourceError } from './classify-git-error.js';
import { gitEnv, gnupgHome } from './git-env.js';
import { runVerify } from './git-verify.js';
import { importGpgKeys } from './gpg-keyring.js';
import { matchesPrefixes } from './poll-prefixes.js';
import type { ReleaseSource, RemoteTag, SignatureCheck } from './release-source.js';
import { bindingProblem, parseTagObject } from './signature-check.js';

export interface GitSourceOptions {
  /** https://github.com/owner/repo.git (no credentials in it). */
  readonly url: string;
  /** The agent's state directory; the local repository lives in `repo.git` below it. */
  readonly stateDir: string;
  /** Read at every operation, so a rotated token file takes effect without a restart. */
  readonly token: () => string | undefined;
  /**
   * GPG public keys to trust for GPG-signed tags and policy commits; imported into a keyring
   * of the agent's own (`gnupg` in the state directory), made afresh at each start so a key
   * removed from the file is no longer trusted.
   */
  readonly gpgKeysFile?: string | undefined;
  /**
   * CA certificates (PEM) git trusts for an https URL instead of the system's (OTA_GIT_CA_FILE):
   * for a server whose certificate a private CA signed.
   */
  readonly caFile?: string | undefined;
  /** The setting the token comes from, named in auth errors (default OTA_REPO_TOKEN_FILE). */
  readonly tokenVariable?: string | undefined;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly minRetryMs: number;
  readonly maxRetryMs: number;
  /** Makes a git client for a directory with an environment: main passes simple-git. */
  readonly git: (baseDir: string, env: Record<string, string>) => SimpleGit;
}

const NAMESPACE = 'refs/ota/tags/';
/** The rollout policy: the `ota-policy` branch, fetched along with every cheap poll. */
const POLICY_REF = 'refs/ota/policy';
// A pattern, so a repository without the branch is not an error.
const POLICY_REFSPEC = `+refs/heads/ota-policy*:${POLICY_REF}*`;
const POLICY_FILE = 'ota-policy.json';

/**
 * Release tags over git's smart-HTTP protocol (v2), with git itself. Polls name ref prefixes
 * so the server sends only the tags asked for; the token travels only in an HTTP header set
 * through the environment, never in argv, a URL or .git/config.
 */
export class GitReleaseSource implements ReleaseSource {
  private readonly repoDir: string;
  private initialized = false;
  private keyring: Promise<void> | undefined;

  constructor(
    private readonly options: GitSourceOptions,
    private readonly log: AgentLogger,
  ) {
    this.repoDir = join(options.stateDir, 'repo.git');
  }

  private git(extra?: Record<string, string>): SimpleGit {
    const { stateDir, timeoutMs, caFile } = this.options;
    const env = gitEnv({ stateDir, timeoutMs, caFile, token: this.options.token() }, extra);
    return this.options.git(this.repoDir, env);
  }

  private async ensureRepo(): Promise<void> {
    if (this.initialized) return;
    mkdirSync(this.repoDir, { recursive: true });
    // A git command killed with the agent (a stop timeout, a power cut, a self-update) leaves
    // its lock files, and every later command fails on them. At this process's first use no
    // other agent is using the clone (a new agent polls only while the old one does not).
    for (const file of readdirSync(this.repoDir, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.lock')) continue;
      rmSync(join(this.repoDir, file), { force: true });
      this.log.warn({ file }, 'removed a git lock file a killed agent left');
    }
    await this.git().raw(['init', '--bare', '--quiet']);
    this.initialized = true;
  }

  /** Runs a network git command with retries for transient failures and a typed error. */
  private async remote<T>(what: string, run: () => Promise<T>): Promise<T> {
    return pRetry(
      async () => {
        try {
          return await run();
        } catch (err) {
          const { url, token, tokenVariable, caFile } = this.options;
          const error = sourceError(what, String((err as Error).message ?? err), {
            url,
            token: token(),
            tokenVariable: tokenVariable ?? 'OTA_REPO_TOKEN_FILE',
            caFile,
          });
          throw error.retryable ? error : new AbortError(error);
        }
      },
      {
        retries: this.options.retries,
        minTimeout: this.options.minRetryMs,
        maxTimeout: this.options.maxRetryMs,
        randomize: true,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          const kind = error instanceof ReleaseSourceError ? error.kind : 'git';
          this.log.warn({ kind, attempt: attemptNumber, retriesLeft, what }, 'git remote failed');
        },
      },
    );
  }

  async listTags(prefixes: readonly string[] | 'all'): Promise<RemoteTag[]> {
    await this.ensureRepo();
    if (prefixes === 'all') return this.lsRemote();
    const refspecs = [...prefixes.map((p) => `+refs/tags/${p}*:${NAMESPACE}${p}*`), POLICY_REFSPEC];
    // --prune drops local copies of tags deleted upstream. Exit code 1 with no output means
    // no ref matched any refspec; simple-git treats that as success, which is what it is.
    // No --depth: with it git makes a third request even when every matched ref is unchanged
    // (the policy branch, a known tag). New commits still come incrementally: only what is
    // missing above the release commits already here (fetched shallowly by fetchTag).
    await this.remote('fetch', () =>
      this.git().raw(['fetch', '--no-tags', '--prune', this.options.url, ...refspecs]),
    );
    return (await this.localTags()).filter((t) => matchesPrefixes(t.name, prefixes));
  }

  private async lsRemote(): Promise<RemoteTag[]> {
    const out = await this.remote('ls-remote', () =>
      this.git().raw(['ls-remote', '--tags', this.options.url]),
    );
    const objects = new Map<string, string>();
    const peeled = new Map<string, string>();
    for (const line of out.split('\n')) {
      const [sha, ref] = line.split('\t');
      if (!sha || !ref?.startsWith('refs/tags/')) continue;
      const name = ref.slice('refs/tags/'.length);
      if (name.endsWith('^{}')) peeled.set(name.slice(0, -3), sha);
      else objects.set(name, sha);
    }
    return [...objects].map(([name, object]) => ({
      name,
      object,
      commit: peeled.get(name) ?? object,
    }));
  }

  private async localTags(): Promise<RemoteTag[]> {
    const out = await this.git().raw([
      'for-each-ref',
      '--format=%(refname)%00%(objectname)%00%(*objectname)',
      NAMESPACE,
    ]);
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [ref = '', object = '', peeled = ''] = line.split('\0');
        return { name: ref.slice(NAMESPACE.length), object, commit: peeled || object };
      });
  }

  /**
   * Makes one tag's objects local. A copy fetched earlier is reused only when it is the object
   * the caller expects (what the remote listed): a stale local copy is never passed off as
   * what the remote has now.
   */
  async fetchTag(name: string, object?: string): Promise<RemoteTag> {
    await this.ensureRepo();
    // A prefix poll that found the tag has already fetched it (shallow): no second round trip.
    const local = (await this.localTags()).find((t) => t.name === name);
    if (local && (object === undefined || local.object === object)) return local;
    await this.fetchShallow([name]);
    const tag = (await this.localTags()).find((t) => t.name === name);
    if (!tag) {
      throw new ReleaseSourceError(
        'not-found',
        this.options.url,
        `tag ${name} is not on the remote`,
      );
    }
    return tag;
  }

  /** Makes the named tags local, shallow, in one fetch for those that are not yet. */
  async prefetchTags(names: readonly string[]): Promise<void> {
    await this.ensureRepo();
    const local = new Set((await this.localTags()).map((t) => t.name));
    const missing = names.filter((name) => !local.has(name));
    if (missing.length === 0) return;
    await this.fetchShallow(missing);
  }

  /** One shallow fetch of the named tags into the agent's namespace (moved tags forced). */
  private async fetchShallow(names: readonly string[]): Promise<void> {
    await this.remote('fetch', () =>
      this.git().raw([
        'fetch',
        '--no-tags',
        '--depth=1',
        this.options.url,
        ...names.map((name) => `+refs/tags/${name}:${NAMESPACE}${name}`),
      ]),
    );
  }

  async fetchPolicy(): Promise<void> {
    await this.ensureRepo();
    await this.remote('fetch', () =>
      this.git().raw(['fetch', '--no-tags', '--prune', this.options.url, POLICY_REFSPEC]),
    );
  }

  async policyCommit(): Promise<string | undefined> {
    await this.ensureRepo();
    const commit = (
      await this.git().raw(['for-each-ref', '--format=%(objectname)', POLICY_REF])
    ).trim();
    return commit || undefined;
  }

  async policyText(commit: string): Promise<string | undefined> {
    try {
      return await this.git().raw(['show', `${commit}:${POLICY_FILE}`]);
    } catch {
      return undefined; // the branch holds no policy file
    }
  }

  /** Whether `ancestor` is in the history of `commit` (git merge-base: no output, no). */
  async descendsFrom(commit: string, ancestor: string): Promise<boolean> {
    try {
      return (await this.git().raw(['merge-base', ancestor, commit])).trim() === ancestor;
    } catch {
      return false; // the ancestor is not in this repository at all
    }
  }

  /**
   * Verifies the exact tag object the remote listed, and that it is bound to this release: its
   * own `tag` header must be the ref's name, and the commit returned is the one it points at.
   */
  async verifyTag(
    name: string,
    object: string,
    allowedSignersFile: string,
  ): Promise<SignatureCheck> {
    // The object itself is what is verified, by its id: one already here (fetched earlier, or
    // a moved tag's first object) is as good as a fresh copy; otherwise fetch the tag by name.
    if (!(await this.hasObject(object))) {
      const fetched = await this.fetchTag(name, object);
      if (fetched.object !== object && !(await this.hasObject(object))) {
        return { ok: false, reason: 'the tag object listed is no longer on the remote' };
      }
    }
    const check = await this.verify('verify-tag', object, allowedSignersFile);
    if (!check.ok) return check;
    let text = '';
    try {
      text = await this.git().raw(['cat-file', 'tag', object]);
    } catch {
      // unreadable: bindingProblem says so
    }
    const tag = parseTagObject(text);
    const problem = bindingProblem(name, tag);
    if (problem || !tag) return { ok: false, reason: problem ?? 'unreadable tag' };
    return { ok: true, signer: check.signer, commit: tag.object };
  }

  private async hasObject(object: string): Promise<boolean> {
    try {
      // -t, not -e: -e exits 1 silently for a missing object, which simple-git does not raise.
      return (await this.git().raw(['cat-file', '-t', object])).trim() !== '';
    } catch {
      return false;
    }
  }

  verifyPolicy(commit: string, allowedSignersFile: string): Promise<SignatureCheck> {
    return this.verify('verify-commit', commit, allowedSignersFile, commit);
  }

  private async verify(
    command: 'verify-tag' | 'verify-commit',
    object: string,
    allowedSignersFile: string,
    commit = '',
  ): Promise<SignatureCheck> {
    this.keyring ??= importGpgKeys(
      gnupgHome(this.options.stateDir),
      this.options.gpgKeysFile,
      this.log,
    );
    await this.keyring;
    const git = this.git({ 'gpg.ssh.allowedSignersFile': allowedSignersFile });
    const check = await runVerify(git, command, object);
    return check.ok ? { ...check, commit } : check;
  }

  lsTree(commit: string, paths: readonly string[]): Promise<string> {
    return this.git().raw(['ls-tree', commit, '--', ...paths]);
  }

  async archive(commit: string, dest: string): Promise<void> {
    const tmp = `${dest}.partial`;
    rmSync(tmp, { force: true });
    try {
      await this.git().raw(['archive', '--format=tar', '-o', tmp, commit]);
      renameSync(tmp, dest);
    } finally {
      rmSync(tmp, { force: true });
    }
  }
}

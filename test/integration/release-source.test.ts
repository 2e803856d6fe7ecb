import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ReleaseSourceError } from '../../agent/errors.js';
import { parseVersion } from '../../agent/release/version.js';
import { GitHttpServer } from '../helpers/git-http-server.js';
import { makeSigningKey, TestRepo } from '../helpers/git-repo.js';
import { makeWatcher } from '../helpers/release-fixture.js';
import { tempDir, tempDirForSuite } from '../helpers/temp-dir.js';
import { makeTestPki, type TestPki } from '../helpers/test-ca.js';

const TOKEN = 'ghp_TESTTOKEN0123456789abcdefSECRET';
const none = new Set<string>();
const v = (text: string) => {
  const parsed = parseVersion(text);
  if (!parsed) throw new Error(`bad version ${text}`);
  return parsed;
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

// Over HTTPS, with a test CA the agent is told to trust (OTA_GIT_CA_FILE), as a device reaches
// GitHub. Plain HTTP keeps its own cases in release-source-tls.test.ts and the other suites.
describe('release source against a real git smart-HTTPS server with a token', () => {
  let server: GitHttpServer;
  let repo: TestRepo;
  let dir: string;
  let pki: TestPki;

  beforeAll(() => {
    pki = makeTestPki(tempDirForSuite('ota-release-pki-'));
  });
  beforeEach(async () => {
    dir = tempDir('ota-release-');
    server = new GitHttpServer({ root: join(dir, 'srv'), token: TOKEN, tls: pki.server });
    await server.start();
    repo = await TestRepo.create(dir, join(dir, 'srv'), 'weather');
  });
  afterEach(async () => {
    await server.stop();
  });

  const setup = (extra: { token?: string } = {}) => ({
    url: server.url('weather'),
    stateDir: join(dir, 'state'),
    token: TOKEN,
    caFile: pki.caFile,
    ...extra,
  });

  it('speaks HTTPS to the server', () => {
    expect(setup().url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/weather\.git$/);
  });

  it('detects new tags and picks the highest eligible version; pre-releases only on their channel', async () => {
    await repo.tag('v1.0.0');
    await repo.commit('1.1');
    await repo.tag('v1.1.0');
    await repo.commit('2.0 beta');
    await repo.tag('v2.0.0-beta.1');
    const { watcher } = makeWatcher(setup());

    const first = await watcher.poll(undefined, none);
    expect(first.mode).toBe('sweep');
    expect(first.target?.version).toBe('1.1.0');
    expect(first.excluded).toEqual([
      { version: '2.0.0-beta.1', reason: 'pre-release not on channel stable' },
    ]);

    const beta = makeWatcher(
      { ...setup(), stateDir: join(dir, 'state-beta') },
      { channel: 'beta' },
    );
    expect((await beta.watcher.poll(undefined, none)).target?.version).toBe('2.0.0-beta.1');

    // Running 1.1.0: a cheap prefix poll sees nothing, then sees a new patch.
    expect((await watcher.poll(v('v1.1.0'), none)).target).toBeUndefined();
    const commit = await repo.commit('1.1.1');
    await repo.tag('v1.1.1');
    const next = await watcher.poll(v('v1.1.0'), none);
    expect(next.mode).toBe('prefixes');
    expect(next.target).toMatchObject({ version: '1.1.1', tag: 'v1.1.1', commit });
    // A version that failed here is skipped; the next lower eligible one is not older than current.
    expect((await watcher.poll(v('v1.1.0'), new Set(['1.1.1']))).target).toBeUndefined();
  });

  it('never misses a newer version across patch, minor and major bumps, digit roll-overs included', async () => {
    const { watcher } = makeWatcher(setup());
    const steps: [string, string][] = [
      ['v1.4.2', 'v1.4.3'],
      ['v1.4.3', 'v1.5.0'],
      ['v1.5.0', 'v2.0.0'],
      ['v2.0.0', 'v2.0.3'], // skipping patches
      ['v2.0.9', 'v2.0.10'],
      ['v2.9.1', 'v2.10.0'],
      ['v9.3.0', 'v10.0.0'],
      ['v10.0.0', 'v12.0.0'], // skipping a major
      ['v12.0.0', 'v12.1.0-rc.1'], // not on stable: must not be chosen
    ];
    await repo.tag('v1.4.2');
    await watcher.poll(v('v1.4.2'), none); // first poll sweeps
    for (const [from, to] of steps) {
      await repo.commit(to);
      await repo.tag(to);
      // The agent knows the running version from a container label, without the tag's "v".
      const result = await watcher.poll(v(from.replace(/^v/, '')), none);
      expect(result.mode, `${from} -> ${to}`).toBe('prefixes');
      if (to.includes('-rc')) expect(result.target).toBeUndefined();
      else expect(result.target?.tag, `${from} -> ${to}`).toBe(to);
    }
  });

  it('ignores garbage tag names safely, logging each once', async () => {
    const long = `v${'a'.repeat(99)}/${'b'.repeat(99)}/${'c'.repeat(99)}`;
    const garbage = [
      'v1',
      'latest',
      // A space is not allowed in a git ref name; ${IFS} is the shell's way around that.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text is the point
      'v1.2.3;rm${IFS}-rf',
      long,
      'v1.2.3-ünïcødé',
      'v２.0.0',
      'v01.2.3',
    ];
    for (const name of garbage) await repo.tag(name, { lightweight: true });
    await repo.tag('v1.0.0');
    const { watcher, events } = makeWatcher(setup());
    expect(long.length).toBe(300);

    const result = await watcher.poll(undefined, none);
    expect(result.target?.version).toBe('1.0.0');
    await watcher.poll(undefined, none);
    const ignored = events().filter((e) => e.msg === 'ignoring tag that is not a version');
    expect(ignored).toHaveLength(garbage.length);
    expect(ignored.map((e) => e.length).sort()).toContain(300);
  });

  it('accepts a tag signed by an allowed key and refuses unsigned or foreign-signed ones', async () => {
    const trusted = await makeSigningKey(dir, 'release@example.com');
    const stranger = await makeSigningKey(dir, 'mallory@example.com');
    await repo.tag('v1.0.0', { signingKey: trusted.key });
    const { watcher, events } = makeWatcher(setup(), {
      requireSigned: true,
      allowedSignersFile: trusted.allowedSigners,
    });
    const first = await watcher.poll(undefined, none);
    expect(first.target).toMatchObject({ version: '1.0.0', signer: 'release@example.com' });

    await repo.commit('1.1.0');
    await repo.tag('v1.1.0'); // annotated, unsigned
    await repo.commit('1.2.0');
    await repo.tag('v1.2.0', { signingKey: stranger.key });
    const second = await watcher.poll(v('v1.0.0'), none);
    expect(second.target).toBeUndefined();
    const refusals = events().filter((e) => e.msg === 'tag refused: signature required');
    expect(refusals).toEqual([
      expect.objectContaining({
        tag: 'v1.2.0',
        reason: expect.stringMatching(/not in the allowed signers|does not verify/),
      }),
      expect.objectContaining({ tag: 'v1.1.0', reason: 'not signed' }),
    ]);

    await repo.commit('1.3.0');
    await repo.tag('v1.3.0', { signingKey: trusted.key });
    expect((await watcher.poll(v('v1.0.0'), none)).target?.version).toBe('1.3.0');
  });

  it('reports a moved tag loudly and keeps the commit first seen', async () => {
    const first = await repo.commit('one');
    await repo.tag('v1.0.0');
    // Sweep at every poll, so the moved tag is listed again.
    const { watcher, events } = makeWatcher(setup(), { sweepIntervalMs: 0 });
    expect((await watcher.poll(undefined, none)).target?.commit).toBe(first);

    const sneaky = await repo.commit('sneaky');
    await repo.tag('v1.0.0'); // force-pushed to another commit
    const result = await watcher.poll(undefined, none);
    expect(result.target).toMatchObject({ version: '1.0.0', commit: first });
    const moved = events().filter((e) => String(e.msg).startsWith('TAG MOVED'));
    expect(moved).toEqual([
      expect.objectContaining({ tag: 'v1.0.0', firstCommit: first, nowCommit: sneaky, level: 50 }),
    ]);
    await watcher.poll(undefined, none);
    expect(events().filter((e) => String(e.msg).startsWith('TAG MOVED'))).toHaveLength(1);

    const following = makeWatcher(setup(), { sweepIntervalMs: 0, acceptMovedTags: true });
    expect((await following.watcher.poll(undefined, none)).target?.commit).toBe(sneaky);
  });

  it('reports a wrong token as an auth error, without retrying', async () => {
    await repo.tag('v1.0.0');
    const { watcher } = makeWatcher(setup({ token: 'ghp_wrong' }));
    const result = await watcher.poll(undefined, none);
    expect(result.error).toBeInstanceOf(ReleaseSourceError);
    expect(result.error?.kind).toBe('auth');
    const traffic = await server.traffic();
    expect(traffic.unauthorized).toBe(1);
  });

  it('sends the token with the first request: a poll is two requests and no 401', async () => {
    await repo.tag('v1.0.0');
    const { watcher } = makeWatcher(setup());
    await watcher.poll(undefined, none);
    server.reset();
    await watcher.poll(v('v1.0.0'), none);
    const traffic = await server.traffic();
    expect(traffic).toMatchObject({ requests: 2, unauthorized: 0 });
  });

  it('before anything is deployed, polls cheaply above the version it already found', async () => {
    await repo.tag('v1.0.0');
    const { watcher } = makeWatcher(setup());
    expect((await watcher.poll(undefined, none)).mode).toBe('sweep');
    const again = await watcher.poll(undefined, none);
    expect(again).toMatchObject({ mode: 'prefixes', target: { version: '1.0.0' } });
    await repo.commit('1.0.1');
    await repo.tag('v1.0.1');
    expect((await watcher.poll(undefined, none)).target?.version).toBe('1.0.1');
    // Once 1.0.1 failed here, the known 1.0.0 is the target, still without listing every tag.
    const after = await watcher.poll(undefined, new Set(['1.0.1']));
    expect(after).toMatchObject({ mode: 'prefixes', target: { version: '1.0.0' } });
  });

  it('after a rollback far below newer failed versions, still finds a brand-new release cheaply', async () => {
    for (const tag of ['v1.0.0', 'v1.1.0', 'v1.2.0', 'v1.3.0']) {
      await repo.commit(tag);
      await repo.tag(tag);
    }
    const { watcher } = makeWatcher(setup());
    await watcher.poll(v('1.3.0'), none); // first poll: a sweep that sees every tag
    const failed = new Set(['1.1.0', '1.2.0', '1.3.0']);
    expect((await watcher.poll(v('1.0.0'), failed)).target).toBeUndefined();
    await repo.commit('1.4.0');
    await repo.tag('v1.4.0'); // four minors above the running 1.0.0
    server.reset();
    const result = await watcher.poll(v('1.0.0'), failed);
    expect(result).toMatchObject({ mode: 'prefixes', target: { version: '1.4.0' } });
    expect((await server.traffic()).requests).toBeLessThanOrEqual(3);
  });

  it('retries while the server is down and recovers when it is back', async () => {
    await repo.tag('v1.0.0');
    const port = server.port;
    await server.stop();
    const { watcher, events } = makeWatcher({ ...setup(), retries: 8 });
    setTimeout(() => void server.start(port), 1_200);
    const result = await watcher.poll(undefined, none);
    expect(result.target?.version).toBe('1.0.0');
    const failures = events().filter((e) => e.msg === 'git remote failed');
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]?.kind).toBe('unreachable');
  });

  it('names HTTP 5xx, a missing repository and an unresolvable host', async () => {
    await repo.tag('v1.0.0');
    server.fault = { status: 503 };
    const down = await makeWatcher({ ...setup(), retries: 1 }).watcher.poll(undefined, none);
    expect(down.error?.kind).toBe('server-error');
    server.fault = {};
    const gone = makeWatcher({ ...setup(), url: server.url('nope'), retries: 1 });
    expect((await gone.watcher.poll(undefined, none)).error?.kind).toBe('not-found');
    const dns = makeWatcher({ ...setup(), url: 'https://ota-test-host.invalid/x.git', retries: 0 });
    expect((await dns.watcher.poll(undefined, none)).error?.kind).toBe('dns');
  });

  it('times out on a server that stalls, then works once it answers', async () => {
    await repo.tag('v1.0.0');
    server.fault = { delayMs: 5_000 };
    const slow = makeWatcher({ ...setup(), retries: 0, timeoutMs: 1_500 });
    const result = await slow.watcher.poll(undefined, none);
    expect(result.error?.kind).toBe('timeout');
    server.fault = {};
    expect((await slow.watcher.poll(undefined, none)).target?.version).toBe('1.0.0');
  });

  it('fetches one tag shallowly and archives its tree atomically', async () => {
    const commit = await repo.commit('app', {
      'Dockerfile.app': 'FROM scratch\n',
      'app/main.ts': 'x',
    });
    await repo.tag('v1.0.0');
    const { source } = makeWatcher(setup());
    const tag = await source.fetchTag('v1.0.0');
    expect(tag.commit).toBe(commit);
    const dest = join(dir, 'context.tar');
    await source.archive(commit, dest);
    const listing = execFileSync('tar', ['-tf', dest]).toString().split('\n');
    expect(listing).toEqual(expect.arrayContaining(['Dockerfile.app', 'app/main.ts']));
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
    const shallow = readFileSync(join(dir, 'state', 'repo.git', 'shallow'), 'utf8');
    expect(shallow).toContain(commit);
  });

  it('never lets the token appear in logs, state files or process arguments', async () => {
    await repo.tag('v1.0.0');
    const { watcher, lines } = makeWatcher({ ...setup(), retries: 1 });
    server.fault = { delayMs: 800 };
    const seenArgs: string[] = [];
    const sampler = setInterval(() => {
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        try {
          seenArgs.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '));
        } catch {
          // the process ended
        }
      }
    }, 50);
    await watcher.poll(undefined, none);
    server.fault = { status: 500 };
    await watcher.poll(v('v1.0.0'), none);
    clearInterval(sampler);
    server.fault = {};

    const gitProcesses = seenArgs.filter(
      (a) => a.includes('git') && a.includes(server.url('weather')),
    );
    expect(gitProcesses.length).toBeGreaterThan(0);
    const basic = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
    for (const text of [...seenArgs, ...lines]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(basic);
    }
    for (const file of filesUnder(join(dir, 'state'))) {
      const content = readFileSync(file);
      expect(content.includes(TOKEN), file).toBe(false);
      expect(content.includes(basic), file).toBe(false);
    }
  });
});

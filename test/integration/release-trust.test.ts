import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseVersion } from '../../agent/release/version.js';
import { GitHttpServer } from '../helpers/git-http-server.js';
import { makeGpgKey, makeSigningKey, TestRepo } from '../helpers/git-repo.js';
import { makeWatcher } from '../helpers/release-fixture.js';
import { tempDir } from '../helpers/temp-dir.js';
import { makeTestPki } from '../helpers/test-ca.js';

const none = new Set<string>();
const v = (text: string) => parseVersion(text) ?? (undefined as never);

/**
 * The attacker suite: someone who can push to the repository but holds no signing key tries
 * to move a device that requires signed releases. None of it may move the device.
 */
describe('release trust: a signature binds the tag name and the commit', () => {
  let server: GitHttpServer;
  let repo: TestRepo;
  let dir: string;
  let key: Awaited<ReturnType<typeof makeSigningKey>>;

  beforeEach(async () => {
    dir = tempDir('ota-trust-');
    server = new GitHttpServer({ root: join(dir, 'srv') });
    await server.start();
    repo = await TestRepo.create(dir, join(dir, 'srv'), 'weather');
    key = await makeSigningKey(dir, 'release@example.com');
  });
  afterEach(async () => {
    await server.stop();
  });

  const device = (extra: Record<string, unknown> = {}) =>
    makeWatcher(
      { url: server.url('weather'), stateDir: join(dir, 'state') },
      { requireSigned: true, allowedSignersFile: key.allowedSigners, ...extra },
    );

  it('refuses a signed tag object re-pointed under a higher version name', async () => {
    await repo.tag('v1.0.0', { signingKey: key.key });
    await repo.commit('1.1.0');
    await repo.tag('v1.1.0', { signingKey: key.key });
    let clock = 0;
    const { watcher, events } = device({ now: () => clock });
    expect((await watcher.poll(v('1.1.0'), none)).target).toBeUndefined();

    // The attacker copies v1.0.0's signed tag object to refs/tags/v9.0.0: no key needed.
    const object = await repo.git('rev-parse', 'v1.0.0');
    await repo.git('push', '--quiet', '--force', repo.bare, `${object}:refs/tags/v9.0.0`);

    clock += 3_600_000; // the hourly sweep lists it
    const result = await watcher.poll(v('1.1.0'), none);
    expect(result).toMatchObject({ mode: 'sweep', target: undefined });
    expect(result.excluded).toContainEqual({
      version: '9.0.0',
      reason: 'the signed tag is named v1.0.0, not v9.0.0',
    });
    const refused = events().find((e) => e.msg === 'tag refused: signature required');
    expect(refused).toMatchObject({ level: 50, tag: 'v9.0.0' });
  });

  it('verifies the object the remote has now, not a copy of the tag fetched earlier', async () => {
    const signed = await repo.commit('2.0.0');
    await repo.tag('v2.0.0', { signingKey: key.key });
    // Every poll lists every tag (ls-remote), and moved tags are followed.
    const { watcher, events } = device({ sweepIntervalMs: 0, acceptMovedTags: true });
    expect((await watcher.poll(v('1.0.0'), none)).target).toMatchObject({
      commit: signed,
      signer: 'release@example.com',
    });

    // The tag is moved to an unsigned commit; the device holds the old signed copy locally.
    const sneaky = await repo.commit('sneaky');
    await repo.tag('v2.0.0', { lightweight: true });
    const result = await watcher.poll(v('1.0.0'), none);
    expect(result.target?.commit).not.toBe(sneaky);
    expect(result.target).toBeUndefined();
    expect(events().filter((e) => e.msg === 'tag refused: signature required')).toEqual([
      expect.objectContaining({ tag: 'v2.0.0', reason: 'lightweight tag: not signed' }),
    ]);
  });

  it('keeps verifying the first signed object of a moved tag, never the new one', async () => {
    await repo.tag('v1.0.0', { signingKey: key.key });
    const first = await repo.commit('2.0.0');
    await repo.tag('v2.0.0', { signingKey: key.key });
    const { watcher, events } = device();
    // Sees v2.0.0 but does not verify it yet (it failed here once, then was retried).
    expect((await watcher.poll(v('1.0.0'), new Set(['2.0.0']))).target).toBeUndefined();
    // Moved by someone without the key, before this device verified it.
    await repo.commit('sneaky');
    await repo.tag('v2.0.0');
    const result = await watcher.poll(v('1.0.0'), none);
    expect(result.target).toMatchObject({ commit: first, signer: 'release@example.com' });
    expect(events().some((e) => String(e.msg).startsWith('TAG MOVED'))).toBe(true);
  });
});

describe('release trust: GPG-signed tags as well as SSH-signed', () => {
  let server: GitHttpServer;
  let repo: TestRepo;
  let dir: string;

  beforeEach(async () => {
    dir = tempDir('ota-trust-gpg-');
    server = new GitHttpServer({ root: join(dir, 'srv') });
    await server.start();
    repo = await TestRepo.create(dir, join(dir, 'srv'), 'weather');
  });
  afterEach(async () => {
    await server.stop();
  });

  it('accepts a tag signed by a trusted GPG key, refuses others and re-pointed copies', async () => {
    const trusted = await makeGpgKey(dir, 'release@example.com');
    const stranger = await makeGpgKey(dir, 'mallory@example.com');
    const ssh = await makeSigningKey(dir, 'ssh@example.com');
    await repo.tag('v1.0.0', { gpg: trusted });
    const { watcher, events } = makeWatcher(
      { url: server.url('weather'), stateDir: join(dir, 'state'), gpgKeysFile: trusted.publicKeys },
      { requireSigned: true, allowedSignersFile: ssh.allowedSigners, sweepIntervalMs: 0 },
    );
    expect((await watcher.poll(undefined, none)).target).toMatchObject({
      version: '1.0.0',
      signer: 'Release <release@example.com>',
    });

    await repo.commit('1.1.0');
    await repo.tag('v1.1.0', { gpg: stranger });
    const object = await repo.git('rev-parse', 'v1.0.0');
    await repo.git('push', '--quiet', '--force', repo.bare, `${object}:refs/tags/v9.0.0`);
    const result = await watcher.poll(v('1.0.0'), none);
    expect(result.target).toBeUndefined();
    expect(result.excluded).toEqual(
      expect.arrayContaining([
        { version: '9.0.0', reason: 'the signed tag is named v1.0.0, not v9.0.0' },
        {
          version: '1.1.0',
          reason: 'signed with a GPG key that is not in OTA_ALLOWED_GPG_KEYS_FILE',
        },
      ]),
    );

    // SSH-signed tags still count alongside.
    await repo.commit('1.2.0');
    await repo.tag('v1.2.0', { signingKey: ssh.key });
    expect((await watcher.poll(v('1.0.0'), none)).target).toMatchObject({
      version: '1.2.0',
      signer: 'ssh@example.com',
    });
    expect(events().find((e) => e.msg === 'GPG keys trusted for signatures')).toMatchObject({
      keys: 1,
    });
  });
});

// Over HTTPS, as a device meets GitHub: the token goes in the header inside TLS.
describe('release trust: a refused token says what to do', () => {
  const TOKEN = 'ghp_TRUSTTOKEN0123456789SECRET';
  let server: GitHttpServer;
  let dir: string;
  let caFile: string;

  beforeEach(async () => {
    dir = tempDir('ota-trust-token-');
    const pki = makeTestPki(dir);
    caFile = pki.caFile;
    server = new GitHttpServer({ root: join(dir, 'srv'), token: TOKEN, tls: pki.server });
    await server.start();
    const repo = await TestRepo.create(dir, join(dir, 'srv'), 'weather');
    await repo.tag('v1.0.0');
  });
  afterEach(async () => {
    await server.stop();
  });

  it.each([
    [
      'a wrong token',
      'ghp_wrong',
      undefined,
      'auth: the repository refused the token (HTTP 401): check OTA_REPO_TOKEN_FILE',
    ],
    [
      'a wrong token from the environment',
      'ghp_wrong',
      'OTA_REPO_TOKEN',
      'auth: the repository refused the token (HTTP 401): check OTA_REPO_TOKEN',
    ],
    [
      'no token',
      undefined,
      undefined,
      'auth: the repository asks for a token (HTTP 401) and none was sent: check OTA_REPO_TOKEN_FILE',
    ],
  ])('names the setting for %s, never the token', async (_, token, tokenVariable, message) => {
    const { watcher, lines } = makeWatcher({
      url: server.url('weather'),
      stateDir: join(dir, 'state'),
      token,
      tokenVariable,
      caFile,
    });
    expect(server.url('weather')).toMatch(/^https:/);
    const result = await watcher.poll(undefined, none);
    expect(result.error?.message).toBe(message);
    for (const line of lines) {
      expect(line).not.toContain('ghp_wrong');
      expect(line).not.toContain('terminal prompts disabled');
    }
  });
});

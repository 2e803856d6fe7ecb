import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ReleaseSourceError } from '../../agent/errors.js';
import { parseVersion } from '../../agent/release/version.js';
import { GitHttpServer } from '../helpers/git-http-server.js';
import { TestRepo } from '../helpers/git-repo.js';
import { makeWatcher, type SourceSetup } from '../helpers/release-fixture.js';
import { tempDir, tempDirForSuite } from '../helpers/temp-dir.js';
import { type KeyPair, makeTestPki, type TestPki } from '../helpers/test-ca.js';

const TOKEN = 'ghp_TLSTOKEN0123456789abcdefSECRET';
const none = new Set<string>();

describe('release source over HTTPS: only the configured CA is trusted', () => {
  const dir = tempDirForSuite('ota-tls-');
  let pki: TestPki;
  let server: GitHttpServer;

  beforeAll(async () => {
    pki = makeTestPki(dir);
    server = new GitHttpServer({ root: join(dir, 'srv'), token: TOKEN, tls: pki.server });
    await server.start();
    const repo = await TestRepo.create(dir, join(dir, 'srv'), 'weather');
    await repo.tag('v1.0.0');
  });
  afterEach(() => {
    server.useCertificate(pki.server);
    server.reset();
  });
  afterAll(async () => {
    await server.stop();
  });

  // A fresh state directory per watcher: nothing fetched earlier can stand in for the remote.
  const setup = (extra: Partial<SourceSetup> = {}): SourceSetup => ({
    url: server.url('weather'),
    stateDir: join(tempDir('ota-tls-state-'), 'state'),
    token: TOKEN,
    caFile: pki.caFile,
    retries: 3,
    ...extra,
  });

  it('polls and fetches through the CA in OTA_GIT_CA_FILE, by address and by host name', async () => {
    for (const host of ['127.0.0.1', 'localhost']) {
      const { watcher, source } = makeWatcher(setup({ url: server.url('weather', host) }));
      const result = await watcher.poll(undefined, none);
      expect(result.error, host).toBeUndefined();
      expect(result.target?.version, host).toBe('1.0.0');
      expect((await source.fetchTag('v1.0.0')).name).toBe('v1.0.0');
    }
    // The token reached the server in the header over TLS: no request was refused.
    expect(await server.traffic()).toMatchObject({ unauthorized: 0 });
  });

  const untrusted = /not signed by a CA the agent trusts.*set OTA_GIT_CA_FILE to the CA/;
  const notOurs = /not signed by the CA in OTA_GIT_CA_FILE .*set OTA_GIT_CA_FILE to the CA/;
  const cases: [string, (p: TestPki) => Partial<SourceSetup>, keyof TestPki, RegExp][] = [
    ['no CA configured', () => ({ caFile: undefined }), 'server', untrusted],
    ['an unrelated CA configured', (p) => ({ caFile: p.otherCaFile }), 'server', notOurs],
    ['a certificate from another CA', () => ({}), 'foreign', notOurs],
    ['a self-signed certificate', () => ({}), 'selfSigned', notOurs],
    ['an expired certificate', () => ({}), 'expired', /expired.*device's clock/],
    [
      'a certificate for another host name',
      () => ({}),
      'wrongHost',
      /not for the host in OTA_REPO_URL \(127\.0\.0\.1\)/,
    ],
  ];
  it.each(cases)(
    'refuses %s with a tls error that says what to do, sending nothing and not retrying at once',
    async (_, extra, certificate, message) => {
      server.useCertificate(pki[certificate] as KeyPair);
      const { watcher, events, lines } = makeWatcher(setup(extra(pki)));
      const result = await watcher.poll(undefined, none);
      expect(result.error).toBeInstanceOf(ReleaseSourceError);
      expect(result.error?.kind).toBe('tls');
      expect(result.error?.message).toMatch(/^tls: /);
      expect(result.error?.message).toMatch(message);
      expect(result.target).toBeUndefined();
      const traffic = await server.traffic();
      // No HTTP request, so the token never left the device; one attempt, not four (retries: 3).
      expect(traffic.requests).toBe(0);
      expect(traffic.connections).toBe(1);
      expect(events().filter((e) => e.msg === 'release poll failed')).toHaveLength(1);
      for (const line of lines) expect(line).not.toContain(TOKEN);
    },
  );

  it('keeps polling: once the server shows a certificate from the trusted CA, the next poll works', async () => {
    server.useCertificate(pki.foreign);
    const { watcher } = makeWatcher(setup());
    expect((await watcher.poll(undefined, none)).error?.kind).toBe('tls');
    server.useCertificate(pki.server);
    const next = await watcher.poll(undefined, none);
    expect(next.error).toBeUndefined();
    expect(next.target?.version).toBe('1.0.0');
  });

  it('says so when the CA file cannot be read at the time of a poll', async () => {
    const { watcher } = makeWatcher(setup({ caFile: join(dir, 'gone.pem') }));
    const result = await watcher.poll(undefined, none);
    expect(result.error?.kind).toBe('tls');
    expect(result.error?.message).toMatch(/cannot read the CA file .*gone\.pem.*OTA_GIT_CA_FILE/);
  });
});

describe('release source over plain HTTP (kept covered; the rest of the suite runs on HTTPS)', () => {
  let server: GitHttpServer;
  let dir: string;

  beforeAll(async () => {
    dir = tempDirForSuite('ota-plain-');
    server = new GitHttpServer({ root: join(dir, 'srv'), token: TOKEN });
    await server.start();
    const repo = await TestRepo.create(dir, join(dir, 'srv'), 'weather');
    await repo.tag('v1.0.0');
  });
  afterAll(async () => {
    await server.stop();
  });

  it('polls with the token in the first request (two requests, no 401); a CA file does not get in the way', async () => {
    const pki = makeTestPki(dir);
    const { watcher } = makeWatcher({
      url: server.url('weather'),
      stateDir: join(dir, 'state'),
      token: TOKEN,
      caFile: pki.caFile,
    });
    expect((await watcher.poll(undefined, none)).target?.version).toBe('1.0.0');
    server.reset();
    await watcher.poll(parseVersion('v1.0.0'), none);
    expect(await server.traffic()).toMatchObject({ requests: 2, unauthorized: 0 });
  });

  it('reports a wrong token as an auth error', async () => {
    const { watcher } = makeWatcher({
      url: server.url('weather'),
      stateDir: join(dir, 'state-wrong'),
      token: 'ghp_wrong',
    });
    expect((await watcher.poll(undefined, none)).error?.kind).toBe('auth');
  });
});

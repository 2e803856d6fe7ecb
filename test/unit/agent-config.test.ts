import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig, originOf } from '../../agent/config.js';
import { ConfigError } from '../../common/config-error.js';
import { tempDirForSuite } from '../helpers/temp-dir.js';
import { makeTestPki } from '../helpers/test-ca.js';

const base = { OTA_REPO_URL: 'https://github.com/acme/weather.git' };

function failure(env: Record<string, string>): ConfigError {
  try {
    loadAgentConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('agent configuration', () => {
  it('has working defaults given a repository URL', () => {
    const config = loadAgentConfig(base);
    expect(config.pollIntervalMs).toBe(60_000);
    expect(config.pollJitter).toBe(0.2);
    expect(config.sweepIntervalMs).toBe(3_600_000);
    expect(config.channel).toBe('stable');
    expect(config.requireSigned).toBe(false);
    expect(config.token()).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('refuses an ssh:// DOCKER_HOST at start, naming the variable (its path needs WebAssembly)', () => {
    const err = failure({ ...base, DOCKER_HOST: 'ssh://pi@device' });
    expect(err.variable).toBe('DOCKER_HOST');
    expect(err.message).toMatch(/mount the engine socket instead of ssh/);
    for (const host of ['unix:///var/run/docker.sock', 'tcp://127.0.0.1:2375']) {
      expect(() => loadAgentConfig({ ...base, DOCKER_HOST: host })).not.toThrow();
    }
  });

  it('reads durations in readable units', () => {
    expect(loadAgentConfig({ ...base, OTA_POLL_INTERVAL: '5m' }).pollIntervalMs).toBe(300_000);
    expect(loadAgentConfig({ ...base, OTA_POLL_INTERVAL: '90' }).pollIntervalMs).toBe(90_000);
    expect(loadAgentConfig({ ...base, OTA_SWEEP_INTERVAL: '6h' }).sweepIntervalMs).toBe(21_600_000);
  });

  it('reads the token from a file at each use, so it can be rotated', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-cfg-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'ghp_first\n');
    const config = loadAgentConfig({ ...base, OTA_REPO_TOKEN_FILE: file });
    expect(config.token()).toBe('ghp_first');
    writeFileSync(file, 'ghp_second\n');
    expect(config.token()).toBe('ghp_second');
  });

  it.each([
    [{ OTA_CHECKOUT_GIT_CONFIG: '/nonexistent' }, 'OTA_REPO_URL', /git URL/],
    [{ OTA_REPO_URL: 'not a url' }, 'OTA_REPO_URL', /http\(s\) URL/],
    [{ OTA_REPO_URL: 'ssh://git@github.com/a/b.git' }, 'OTA_REPO_URL', /http\(s\) URL/],
    [{ ...base, OTA_POLL_INTERVAL: 'often' }, 'OTA_POLL_INTERVAL', /duration/],
    [{ ...base, OTA_POLL_INTERVAL: '1s' }, 'OTA_POLL_INTERVAL', /duration from 5s/],
    [{ ...base, OTA_CHANNEL: 'Beta!' }, 'OTA_CHANNEL', /pre-release name/],
    [{ ...base, OTA_REQUIRE_SIGNED: 'true' }, 'OTA_ALLOWED_SIGNERS_FILE', /allowed-signers/],
    [{ ...base, OTA_REPO_TOKEN_FILE: '/nonexistent' }, 'OTA_REPO_TOKEN_FILE', /readable file/],
  ])('rejects %j naming %s', (env, variable, message) => {
    const err = failure(env as Record<string, string>);
    expect(err.variable).toBe(variable);
    expect(err.message).toMatch(message);
  });

  it('refuses a token inside the URL without echoing it', () => {
    const err = failure({ OTA_REPO_URL: 'https://x-access-token:ghp_SECRET@github.com/a/b.git' });
    expect(err.variable).toBe('OTA_REPO_URL');
    expect(err.message).not.toContain('ghp_SECRET');
  });
});

describe('following the clone compose.yaml lives in', () => {
  const write = (url: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'origin-'));
    const file = join(dir, 'config');
    writeFileSync(
      file,
      `[core]\n\tbare = false\n[remote "origin"]\n\turl = ${url}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n[branch "main"]\n\tremote = origin\n`,
    );
    return file;
  };

  it.each([
    ['https://github.com/acme/weather.git', 'https://github.com/acme/weather.git'],
    ['git@github.com:acme/weather.git', 'https://github.com/acme/weather.git'],
    ['ssh://git@github.com/acme/weather.git', 'https://github.com/acme/weather.git'],
  ])('reads %s as %s', (url, expected) => {
    expect(originOf(write(url))).toBe(expected);
    expect(loadAgentConfig({ OTA_CHECKOUT_GIT_CONFIG: write(url) }).repoUrl).toBe(expected);
  });

  it('has no default without a clone', () => {
    expect(originOf('/nonexistent/config')).toBeUndefined();
  });
});

describe('OTA_PULL_GRACE', () => {
  it('waits 15 minutes by default, takes a duration, and names itself when wrong', () => {
    expect(loadAgentConfig(base).pullGraceMs).toBe(900_000);
    expect(loadAgentConfig({ ...base, OTA_PULL_GRACE: '0' }).pullGraceMs).toBe(0);
    expect(loadAgentConfig({ ...base, OTA_PULL_GRACE: '30m' }).pullGraceMs).toBe(1_800_000);
    expect(failure({ ...base, OTA_PULL_GRACE: 'soon' })).toMatchObject({
      variable: 'OTA_PULL_GRACE',
    });
  });
});

describe('OTA_ALLOWED_GPG_KEYS_FILE', () => {
  it('must exist, and is enough on its own for OTA_REQUIRE_SIGNED', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ota-gpg-')), 'keys.asc');
    writeFileSync(file, '-----BEGIN PGP PUBLIC KEY BLOCK-----\n');
    const config = loadAgentConfig({
      ...base,
      OTA_REQUIRE_SIGNED: 'true',
      OTA_ALLOWED_GPG_KEYS_FILE: file,
    });
    expect(config).toMatchObject({ requireSigned: true, allowedGpgKeysFile: file });
    expect(failure({ ...base, OTA_ALLOWED_GPG_KEYS_FILE: '/nonexistent.asc' })).toMatchObject({
      variable: 'OTA_ALLOWED_GPG_KEYS_FILE',
    });
  });
});

describe('OTA_GIT_CA_FILE', () => {
  const dir = tempDirForSuite('ota-ca-');
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('is unset by default, and taken when it holds a PEM certificate', () => {
    expect(loadAgentConfig(base).gitCaFile).toBeUndefined();
    const pki = makeTestPki(dir);
    expect(loadAgentConfig({ ...base, OTA_GIT_CA_FILE: pki.caFile }).gitCaFile).toBe(pki.caFile);
    // A bundle: other text around the certificates, and a certificate that is not a CA.
    const bundle = write(
      'bundle.pem',
      `# ours\n${readFileSync(pki.caFile, 'utf8')}${pki.server.cert}`,
    );
    expect(loadAgentConfig({ ...base, OTA_GIT_CA_FILE: bundle }).gitCaFile).toBe(bundle);
  });

  it.each([
    ['a missing file', () => join(dir, 'nope.pem'), /no such file/],
    ['a directory', () => dir, /EISDIR/],
    ['an empty file', () => write('empty.pem', ''), /no PEM certificate/],
    ['a private key', () => write('key.pem', makeTestPki(dir).server.key), /no PEM certificate/],
    [
      'a damaged certificate',
      () => write('bad.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
      /no PEM certificate/,
    ],
  ])('refuses %s, naming the variable', (_, file, detail) => {
    const err = failure({ ...base, OTA_GIT_CA_FILE: file() });
    expect(err.variable).toBe('OTA_GIT_CA_FILE');
    expect(err.message).toMatch(/expected a readable file of PEM CA certificates/);
    expect(err.message).toMatch(detail);
  });
});

describe('self-update settings', () => {
  it('are on by default, with a 5 min hand-over limit', () => {
    expect(loadAgentConfig(base).selfUpdate).toMatchObject({
      enabled: true,
      handoverTimeoutMs: 300_000,
      agentBaseImage: undefined,
      testPauseFile: undefined,
    });
    expect(loadAgentConfig({ ...base, OTA_SELF_UPDATE: 'false' }).selfUpdate.enabled).toBe(false);
  });

  it('refuse a hand-over limit out of range or a bad switch, naming the variable', () => {
    expect(failure({ ...base, OTA_AGENT_HANDOVER_TIMEOUT: '5s' }).variable).toBe(
      'OTA_AGENT_HANDOVER_TIMEOUT',
    );
    expect(failure({ ...base, OTA_SELF_UPDATE: 'maybe' }).variable).toBe('OTA_SELF_UPDATE');
  });
});

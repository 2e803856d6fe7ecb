import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../agent/config.js';
import { ReleaseSourceError } from '../../agent/errors.js';
import {
  classifyGitError,
  describeAuthFailure,
  sourceError,
} from '../../agent/release/classify-git-error.js';

const PROMPT = "fatal: could not read Username for 'https://github.com': terminal prompts disabled";

describe('git auth errors say which setting to check', () => {
  it('turns git prompts into a refused or missing token', () => {
    expect(classifyGitError(PROMPT)).toBe('auth');
    expect(describeAuthFailure(PROMPT, true, 'OTA_REPO_TOKEN_FILE')).toBe(
      'the repository refused the token (HTTP 401): check OTA_REPO_TOKEN_FILE',
    );
    expect(describeAuthFailure(PROMPT, false, 'OTA_REPO_TOKEN_FILE')).toBe(
      'the repository asks for a token (HTTP 401) and none was sent: check OTA_REPO_TOKEN_FILE',
    );
    expect(
      describeAuthFailure('The requested URL returned error: 403', true, 'OTA_REPO_TOKEN'),
    ).toBe(
      "the repository refused the token (HTTP 403): check OTA_REPO_TOKEN and the token's access to this repository",
    );
  });

  it('names the variable the token came from', () => {
    const url = { OTA_REPO_URL: 'https://github.com/acme/weather.git' };
    expect(loadAgentConfig(url).tokenVariable).toBe('OTA_REPO_TOKEN_FILE');
    expect(loadAgentConfig({ ...url, OTA_REPO_TOKEN: 'x' }).tokenVariable).toBe('OTA_REPO_TOKEN');
  });
});

// git's own words, as libcurl with GnuTLS (Debian's git, the agent image's) and with OpenSSL
// print them for `git ls-remote https://127.0.0.1:PORT/weather.git`.
const unable = "fatal: unable to access 'https://127.0.0.1:8443/weather.git/': ";
const CA = '/etc/ota/ca.pem';
const url = 'https://127.0.0.1:8443/weather.git';
const context = { url, token: 'ghp_T', tokenVariable: 'OTA_REPO_TOKEN_FILE' };

describe('a refused server certificate is a tls error that says what to do', () => {
  it.each([
    [
      `server certificate verification failed. CAfile: ${CA} CRLfile: none`,
      /not signed by the CA in OTA_GIT_CA_FILE \(\/etc\/ota\/ca\.pem\).*expired/,
    ],
    [
      'server certificate verification failed. CAfile: none CRLfile: none',
      /not signed by the CA in/,
    ],
    [
      'SSL certificate problem: unable to get local issuer certificate',
      /set OTA_GIT_CA_FILE to the CA certificate that signed/,
    ],
    ['SSL certificate problem: self-signed certificate', /set OTA_GIT_CA_FILE/],
    [
      'SSL certificate problem: self signed certificate in certificate chain',
      /set OTA_GIT_CA_FILE/,
    ],
    [
      'SSL certificate problem: certificate has expired',
      /has expired or is not valid yet.*device's clock/,
    ],
    ['SSL certificate problem: certificate is not yet valid', /device's clock/],
    [
      "SSL: certificate subject name (wrong-host) does not match target host name '127.0.0.1'",
      /not for the host in OTA_REPO_URL \(127\.0\.0\.1\)/,
    ],
    [
      "SSL: no alternative certificate subject name matches target host name '127.0.0.1'",
      /not for the host in OTA_REPO_URL/,
    ],
    [
      'Problem with the SSL CA cert (path? access rights?)',
      /cannot read the CA file \/etc\/ota\/ca\.pem named by OTA_GIT_CA_FILE/,
    ],
    [
      'error setting certificate verify locations:  CAfile: /etc/ota/ca.pem CApath: none',
      /cannot read the CA file/,
    ],
    [
      'gnutls_handshake() failed: An unexpected TLS packet was received.',
      /does not speak TLS on this port/,
    ],
  ])('%s', (line, advice) => {
    expect(classifyGitError(unable + line)).toBe('tls');
    const error = sourceError('ls-remote', unable + line, { ...context, caFile: CA });
    expect(error).toBeInstanceOf(ReleaseSourceError);
    expect(error.kind).toBe('tls');
    expect(error.message).toMatch(/^tls: /);
    expect(error.message).toMatch(advice);
    // git's own text follows, for the details.
    expect(error.message).toContain(line);
  });

  it('without OTA_GIT_CA_FILE, says to set it for a private CA', () => {
    const error = sourceError(
      'fetch',
      `${unable}server certificate verification failed. CAfile: none CRLfile: none`,
      context,
    );
    expect(error.message).toMatch(
      /^tls: the server's certificate is not signed by a CA the agent trusts.*for a private CA, set OTA_GIT_CA_FILE/,
    );
  });

  it('is not retried within a poll, yet marks no version failed', () => {
    const error = new ReleaseSourceError('tls', url, 'refused');
    expect(error.retryable).toBe(false);
    expect(error.permanent).toBe(false);
    expect(new ReleaseSourceError('unreachable', url, 'down').retryable).toBe(true);
    expect(new ReleaseSourceError('auth', url, 'no').retryable).toBe(false);
  });

  it('leaves network failures alone', () => {
    expect(
      classifyGitError(`${unable}Failed to connect to 127.0.0.1 port 8443: Connection refused`),
    ).toBe('unreachable');
    expect(classifyGitError(`${unable}Could not resolve host: ota.invalid`)).toBe('dns');
  });
});

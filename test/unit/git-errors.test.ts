import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../agent/config.js';
import { classifyGitError, describeAuthFailure } from '../../agent/release/classify-git-error.js';

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

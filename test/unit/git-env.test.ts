import { describe, expect, it } from 'vitest';
import { gitEnv } from '../../agent/release/git-env.js';

/** The GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n pairs of an environment, as git reads them. */
function configOf(env: Record<string, string>): Record<string, string> {
  const config: Record<string, string> = {};
  for (let i = 0; i < Number(env.GIT_CONFIG_COUNT); i++) {
    config[env[`GIT_CONFIG_KEY_${i}`] ?? ''] = env[`GIT_CONFIG_VALUE_${i}`] ?? '';
  }
  return config;
}

describe("git's environment", () => {
  const options = { stateDir: '/var/lib/ota', timeoutMs: 60_000, token: undefined };

  it('names the CA file as http.sslCAInfo, and never turns verification off', () => {
    const env = gitEnv({ ...options, caFile: '/run/secrets/git-ca.pem' });
    const config = configOf(env);
    expect(config['http.sslCAInfo']).toBe('/run/secrets/git-ca.pem');
    expect(Object.keys(config).filter((k) => /sslverify/i.test(k))).toEqual([]);
    expect(Object.keys(env).filter((k) => /SSL_NO_VERIFY|SSL_CAINFO/.test(k))).toEqual([]);
  });

  it('leaves the system CAs in place without a CA file', () => {
    expect(configOf(gitEnv(options))).not.toHaveProperty('http.sslCAInfo');
  });
});

import { join } from 'node:path';

/** The keyring git checks GPG signatures against: the agent's own, in its state directory. */
export const gnupgHome = (stateDir: string) => join(stateDir, 'gnupg');

/**
 * The environment every git command of the agent runs in. Config is given through
 * GIT_CONFIG_* variables, so nothing shows in `ps`; the token goes only into an HTTP header.
 * Certificate verification is never turned off: a CA file only says which CA to trust.
 */
export function gitEnv(
  options: {
    stateDir: string;
    timeoutMs: number;
    token: string | undefined;
    /** PEM CA certificates to verify the server with, instead of the system's bundle. */
    caFile?: string | undefined;
  },
  extra: Record<string, string> = {},
): Record<string, string> {
  const config: Record<string, string> = {
    'protocol.version': '2',
    'http.lowSpeedLimit': '100',
    'http.lowSpeedTime': String(Math.max(5, Math.round(options.timeoutMs / 2000))),
    ...extra,
  };
  if (options.caFile) config['http.sslCAInfo'] = options.caFile;
  if (options.token) {
    // Sent with the first request, so there is no 401 round trip. GitHub takes a personal
    // access token as the password of HTTP Basic auth.
    const basic = Buffer.from(`x-access-token:${options.token}`).toString('base64');
    config['http.extraHeader'] = `Authorization: Basic ${basic}`;
  }
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: options.stateDir,
    // GPG signatures are checked against the agent's own keyring only, never a user's.
    GNUPGHOME: gnupgHome(options.stateDir),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_COUNT: String(Object.keys(config).length),
  };
  Object.entries(config).forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

import { ReleaseSourceError, type SourceFailure } from '../errors.js';
import { describeTlsFailure, TLS_FAILURE } from './tls-failure.js';

const RULES: readonly [RegExp, SourceFailure][] = [
  // First: a refused certificate is never a network problem that a retry can fix.
  [TLS_FAILURE, 'tls'],
  [/Could not resolve host|Name or service not known|Temporary failure in name resolution/i, 'dns'],
  [/Operation timed out|Timeout was reached|Operation too slow|timed? ?out/i, 'timeout'],
  [
    /Failed to connect|Connection refused|Couldn't connect|Connection reset|Empty reply/i,
    'unreachable',
  ],
  [
    /Authentication failed|could not read (Username|Password)|returned error: 40[13]|terminal prompts disabled/i,
    'auth',
  ],
  [
    /returned error: 404|repository .* not found|does not appear to be a git repository/i,
    'not-found',
  ],
  [/returned error: 5\d\d|HTTP\/\S+ 5\d\d|RPC failed/i, 'server-error'],
];

/** Maps git's stderr to a failure kind; the text itself is never shown to users unredacted. */
export function classifyGitError(stderr: string): SourceFailure {
  for (const [pattern, kind] of RULES) if (pattern.test(stderr)) return kind;
  return 'git';
}

/**
 * What a user should read for a refused or missing token, naming the setting it came from;
 * git's own words ("could not read Username ...: terminal prompts disabled") say neither.
 */
export function describeAuthFailure(stderr: string, tokenSent: boolean, variable: string): string {
  const status = /returned error: 403|\b403\b/.test(stderr) ? 403 : 401;
  if (!tokenSent) {
    return `the repository asks for a token (HTTP ${status}) and none was sent: check ${variable}`;
  }
  return status === 403
    ? `the repository refused the token (HTTP 403): check ${variable} and the token's access to this repository`
    : `the repository refused the token (HTTP 401): check ${variable}`;
}

/**
 * A failed git command as a typed error: the token cut out of git's text wherever it appears,
 * and auth and certificate failures worded for users (what to check first, then git's text).
 */
export function sourceError(
  what: string,
  stderr: string,
  context: {
    url: string;
    token: string | undefined;
    tokenVariable: string;
    caFile?: string | undefined;
  },
): ReleaseSourceError {
  const { token } = context;
  const text = token ? stderr.split(token).join('[redacted]') : stderr;
  const kind = /block timeout|timed out/i.test(text) ? 'timeout' : classifyGitError(text);
  const message =
    kind === 'auth'
      ? describeAuthFailure(text, token !== undefined, context.tokenVariable)
      : kind === 'tls'
        ? `${describeTlsFailure(text, context.url, context.caFile)} (${what}: ${text.trim()})`
        : `${what} failed: ${text.trim()}`;
  return new ReleaseSourceError(kind, context.url, message);
}

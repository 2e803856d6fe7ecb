import type { SourceFailure } from '../errors.js';

const RULES: readonly [RegExp, SourceFailure][] = [
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

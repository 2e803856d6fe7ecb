import { PullError, type PullFailure } from '../errors.js';

/** Sorts a failed pull into the kinds callers act on (auth, not-found, unreachable, registry). */
export function pullError(version: string, ref: string, err: unknown): PullError {
  if (err instanceof PullError) return err;
  const message = messageOf(err);
  let kind: PullFailure = 'registry';
  if (/unauthorized|authentication required|no basic auth|denied|forbidden/i.test(message)) {
    kind = 'auth';
  } else if (statusOf(err) === 404 || /not found|manifest unknown|name unknown/i.test(message)) {
    kind = 'not-found';
  } else if (
    /dial tcp|connection refused|no such host|i\/o timeout|network is unreachable|timeout|EOF|server misbehaving|tls/i.test(
      message,
    )
  ) {
    kind = 'unreachable';
  }
  return new PullError(kind, version, ref, message, { cause: err });
}

/** The HTTP status of a dockerode error, if it has one. */
export function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number } | null)?.statusCode;
}

/** The engine's own message (dockerode prefixes it with "(HTTP code N) ..."). */
export function messageOf(err: unknown): string {
  const json = (err as { json?: { message?: string } } | null)?.json;
  if (json?.message) return json.message;
  return err instanceof Error ? err.message : String(err);
}

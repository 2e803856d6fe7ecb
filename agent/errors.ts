/** Why talking to the release repository failed; decides whether a retry can help. */
export type SourceFailure =
  | 'dns'
  | 'unreachable'
  | 'timeout'
  | 'server-error'
  | 'auth'
  | 'not-found'
  | 'git';

const PERMANENT: ReadonlySet<SourceFailure> = new Set(['auth', 'not-found']);

export class ReleaseSourceError extends Error {
  override readonly name = 'ReleaseSourceError';
  constructor(
    readonly kind: SourceFailure,
    /** The repository URL (never carries a token: tokens travel only in a header). */
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${kind}: ${message}`, options);
  }

  /** Permanent for this poll: retrying at once cannot help (wrong token, no such repository). */
  get permanent(): boolean {
    return PERMANENT.has(this.kind);
  }
}

/** A tag that must not be deployed: unsigned, signed by an unknown key, or moved. */
export class TagRefusedError extends Error {
  override readonly name = 'TagRefusedError';
  constructor(
    readonly tag: string,
    readonly reason: string,
  ) {
    super(`tag ${tag} refused: ${reason}`);
  }
}

/** Why talking to the release repository failed; decides whether a retry can help. */
export type SourceFailure =
  | 'dns'
  | 'unreachable'
  | 'timeout'
  | 'server-error'
  | 'auth'
  | 'not-found'
  /** The server's certificate was refused, or the CA file could not be read. */
  | 'tls'
  | 'git';

const PERMANENT: ReadonlySet<SourceFailure> = new Set(['auth', 'not-found']);
/** A retry within the same poll meets the same certificate or setting. */
const NOT_RETRIED: ReadonlySet<SourceFailure> = new Set([...PERMANENT, 'tls']);

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

  /**
   * Whether retrying within this poll can help. A refused certificate cannot, yet it is not
   * `permanent`: it says nothing against the release (no version is marked failed), and the
   * next poll tries again, so a fixed CA file or server certificate is picked up.
   */
  get retryable(): boolean {
    return !NOT_RETRIED.has(this.kind);
  }
}

/** `docker build` of a version failed; carries the last lines the build printed. */
export class BuildError extends Error {
  override readonly name = 'BuildError';
  constructor(
    readonly version: string,
    /** The engine's error, e.g. "The command '/bin/sh -c npm ci' returned a non-zero code: 1". */
    readonly reason: string,
    /** The last lines of the build output, oldest first. */
    readonly outputTail: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`build of ${version} failed: ${reason}\n${outputTail.join('\n')}`, options);
  }
}

/** Why pulling from the registry failed; decides whether a retry can help. */
export type PullFailure = 'auth' | 'not-found' | 'unreachable' | 'registry';

const PERMANENT_PULL: ReadonlySet<PullFailure> = new Set(['auth', 'not-found']);

export class PullError extends Error {
  override readonly name = 'PullError';
  constructor(
    readonly kind: PullFailure,
    readonly version: string,
    /** The image reference, e.g. 127.0.0.1:5000/weather:1.4.2 (never carries credentials). */
    readonly ref: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`pull of ${ref} failed (${kind}): ${message}`, options);
  }

  /** Retrying at once cannot help (wrong credentials, no such tag). */
  get permanent(): boolean {
    return PERMANENT_PULL.has(this.kind);
  }
}

/** A pulled image is not what the release says: built from another commit or for another platform. */
export class ImageMismatchError extends Error {
  override readonly name = 'ImageMismatchError';
  constructor(
    readonly version: string,
    readonly field: 'revision' | 'architecture',
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`image for ${version} refused: ${field} is ${actual || '(none)'}, expected ${expected}`);
  }
}

/** Too little free space on the engine's storage to build or pull safely. */
export class DiskSpaceError extends Error {
  override readonly name = 'DiskSpaceError';
  constructor(
    readonly free: number,
    readonly required: number,
    readonly path: string,
  ) {
    super(
      `not enough disk space on ${path}: ${formatBytes(free)} free, ${formatBytes(required)} required`,
    );
  }
}

/** The engine refused to remove one of the agent's images, or the image is not the agent's. */
export class ImageRemoveError extends Error {
  override readonly name = 'ImageRemoveError';
  constructor(
    readonly version: string,
    readonly ref: string,
    readonly reason: 'not-managed' | 'in-use' | 'engine',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot remove ${ref}: ${message}`, options);
  }
}

/**
 * An `ota` argument or a control request field that does not parse. Names the argument and
 * what it takes; the value is quoted and clipped, since it may be anything a typo produced.
 */
export class InvalidArgumentError extends Error {
  override readonly name = 'InvalidArgumentError';
  constructor(
    /** As the user wrote it: VERSION, N or --verbos on the command line; version or limit in a request. */
    readonly argument: string,
    readonly expected: string,
    readonly got: unknown,
  ) {
    super(`${argument}: expected ${expected}, got ${describeValue(got)}`);
  }
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/**
 * The engine refused or failed a step of a change (create, start, stop, remove, inspect).
 * `releaseFault`: the engine answered that the release itself cannot run (no such image, no
 * such executable): retrying the same release cannot help. Otherwise (the engine unreachable,
 * a timeout) the change is tried again later.
 */
export class EngineStepError extends Error {
  override readonly name = 'EngineStepError';
  constructor(
    readonly action: string,
    readonly version: string,
    readonly releaseFault: boolean,
    options: { cause: unknown },
  ) {
    super(
      `docker ${action} of ${version} failed: ${(options.cause as Error)?.message ?? options.cause}`,
      options,
    );
  }
}

/** A setting that is missing or malformed; `variable` names the environment variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    readonly expected: string,
    readonly received: string | undefined,
  ) {
    super(
      `${variable}: expected ${expected}, got ${received === undefined ? 'nothing' : JSON.stringify(received)}`,
    );
  }
}

/** The local spool could not be written: the app can no longer keep readings safe. */
export class SpoolWriteError extends Error {
  override readonly name = 'SpoolWriteError';
  constructor(
    readonly path: string,
    options: { cause: unknown },
  ) {
    super(`could not write reading to the local spool at ${path}`, options);
  }
}

/** The central database refused or did not answer an upload. */
export class UploadError extends Error {
  override readonly name = 'UploadError';
  constructor(
    readonly batchSize: number,
    options: { cause: unknown },
  ) {
    super(`upload of ${batchSize} readings failed`, options);
  }
}

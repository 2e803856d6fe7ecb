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

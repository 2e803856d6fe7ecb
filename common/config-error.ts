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

import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';

type Env = Record<string, string | undefined>;

/** Typed readers over an environment; each failure names the variable and what it expects. */
export function envReader(env: Env) {
  const raw = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };

  return {
    string(name: string, fallback: string): string {
      return raw(name) ?? fallback;
    },
    optional(name: string): string | undefined {
      return raw(name);
    },
    int(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
      const value = raw(name);
      if (value === undefined) return fallback;
      const n = Number(value);
      if (!/^-?\d+$/.test(value) || n < min || n > max) {
        throw new ConfigError(name, `an integer from ${min} to ${max}`, value);
      }
      return n;
    },
    bool(name: string, fallback: boolean): boolean {
      const value = raw(name)?.toLowerCase();
      if (value === undefined) return fallback;
      if (['1', 'true', 'yes', 'on'].includes(value)) return true;
      if (['0', 'false', 'no', 'off'].includes(value)) return false;
      throw new ConfigError(name, 'true or false', env[name]);
    },
    oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
      const value = raw(name);
      if (value === undefined) return fallback;
      if (!(choices as readonly string[]).includes(value)) {
        throw new ConfigError(name, `one of ${choices.join(', ')}`, value);
      }
      return value as T;
    },
    matching(name: string, pattern: RegExp, expected: string, fallback: string): string {
      const value = raw(name) ?? fallback;
      if (!pattern.test(value)) throw new ConfigError(name, expected, value);
      return value;
    },
    /** A duration: "500ms", "30s", "5m", "1h", "1d", or a bare number of seconds. */
    duration(name: string, fallbackMs: number, minMs: number, maxMs: number): number {
      const value = raw(name);
      if (value === undefined) return fallbackMs;
      const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value);
      const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
      const ms = m ? Number(m[1]) * unit[(m[2] ?? 's') as keyof typeof unit] : Number.NaN;
      if (!(ms >= minMs && ms <= maxMs)) {
        throw new ConfigError(
          name,
          `a duration from ${minMs / 1000}s to ${maxMs / 1000}s such as 30s, 5m or 1h`,
          value,
        );
      }
      return Math.round(ms);
    },
    /** A secret given directly (NAME) or, preferably, as a file (NAME_FILE, e.g. a Docker secret). */
    secret(name: string): string | undefined {
      const file = raw(`${name}_FILE`);
      if (file !== undefined) {
        try {
          return readFileSync(file, 'utf8').trim();
        } catch (err) {
          throw new ConfigError(
            `${name}_FILE`,
            'a readable file',
            `${file} (${(err as Error).message})`,
          );
        }
      }
      return raw(name);
    },
  };
}

export type EnvReader = ReturnType<typeof envReader>;

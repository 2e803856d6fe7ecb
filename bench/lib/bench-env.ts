// What every part of the rollback bench shares: the repository, the test environment's
// settings, small statistics and a table printer.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's top level, from the source tree and from dist/ alike. */
export const REPO_ROOT = execFileSync('git', ['rev-parse', '--show-toplevel'], {
  cwd: import.meta.dirname,
})
  .toString()
  .trim();

/**
 * Puts `.ota-test-env` (written by scripts/provision.sh: base images, registry binary) into
 * process.env; variables already set win, as in `npm test`.
 */
export function loadTestEnv(): void {
  const file = join(REPO_ROOT, '.ota-test-env');
  if (!existsSync(file)) throw new Error(`${file} is missing: run scripts/provision.sh first`);
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    // A value with a space is double-quoted for the shell: OTA_COMPOSE="docker compose".
    const value = match?.[2]?.replace(/^"(.*)"$/, '$1');
    if (match?.[1] && process.env[match[1]] === undefined) process.env[match[1]] = value;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `fn` and returns how long it took, in ms, with its result. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Prints rows of [part, measurement, value]; a rule between parts. */
export function printTable(rows: readonly (readonly [string, string, string])[]): void {
  const head = ['part', 'measurement', 'value'] as const;
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (c: readonly string[]) =>
    c
      .map((s, i) => s.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const rule = '-'.repeat(widths.reduce((a, b) => a + b + 2, -2));
  console.log(line(head));
  rows.forEach((r, i) => {
    if (i === 0 || rows[i - 1]?.[0] !== r[0]) console.log(rule);
    console.log(line(r));
  });
  console.log(rule);
}

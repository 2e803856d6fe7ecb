import { freemem, loadavg, totalmem, uptime } from 'node:os';
import type { StatusReport } from '../control/control-api.js';
import { type DiskUsage, diskUsageOf } from '../image/disk-space.js';

/** How many lines of the agent's and of the app's log a bundle carries. */
export const LOG_LINES = 200;

export interface DiagnosticsSources {
  /** What `ota status --json` shows. */
  readonly status: () => Promise<StatusReport>;
  /** The agent's last log lines (LogRing: already redacted). */
  readonly agentLog: () => readonly string[];
  /** The running app container's last log lines (the engine's), or none without an app. */
  readonly appLog: (tail: number) => Promise<readonly string[]>;
  readonly stateDir: string;
  /** The engine's image storage, measured as the disk-space check measures it. */
  readonly engineDisk: () => Promise<DiskUsage>;
  /** Values that must never leave the device (the repository token), read at each use. */
  readonly secrets: () => readonly (string | undefined)[];
}

/**
 * Replaces every occurrence of each secret (of 4 characters or more) with [redacted], also as
 * it appears escaped inside JSON text once or twice (a log line is JSON; the bundle holds it as
 * a JSON string). Pure.
 */
export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue;
    const once = JSON.stringify(secret).slice(1, -1);
    const twice = JSON.stringify(once).slice(1, -1);
    for (const form of new Set([secret, once, twice])) out = out.split(form).join('[redacted]');
  }
  return out;
}

/** A part that cannot be read says why, rather than failing the whole bundle. */
async function attempt<T>(read: () => Promise<T> | T): Promise<T | { error: string }> {
  try {
    return await read();
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/**
 * The diagnostics bundle of a remote action, as JSON text: the agent's status, the last
 * LOG_LINES lines of the agent's and the app's logs, disk (state directory and the engine's
 * storage) and memory (machine and agent process). The agent's lines were redacted by path when
 * logged; the whole text is then scrubbed of the secrets' values, wherever they appear.
 */
export async function collectDiagnostics(
  sources: DiagnosticsSources,
  now: Date = new Date(),
): Promise<string> {
  const bundle = {
    collectedAt: now.toISOString(),
    status: await attempt(sources.status),
    agentLog: sources.agentLog().slice(-LOG_LINES),
    appLog: await attempt(() => sources.appLog(LOG_LINES)),
    disk: {
      state: await diskUsageOf(sources.stateDir),
      engine: await attempt(sources.engineDisk),
    },
    memory: {
      os: { total: totalmem(), free: freemem(), loadavg: loadavg(), uptimeS: uptime() },
      process: process.memoryUsage(),
    },
  };
  const secrets = sources.secrets();
  // Each string before it is escaped into the bundle, then the whole text.
  const text = JSON.stringify(bundle, (_key, value: unknown) =>
    typeof value === 'string' ? scrub(value, secrets) : value,
  );
  return scrub(text, secrets);
}

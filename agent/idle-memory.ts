import type { AgentLogger } from './log.js';

/** How often the agent collects its garbage in full while it runs. */
export const FULL_COLLECTION_EVERY_MS = 60_000;

/**
 * A full garbage collection once a minute, when node runs with --expose-gc (Dockerfile.agent's
 * CMD). The agent idles for days and allocates little, so V8 seldom collects in full on its
 * own, and V8 drops the compiled code of a function only in full collections it went unused
 * through (one, with Dockerfile.agent's --bytecode-old-age=1): without them the code of
 * everything that ran once at start stays resident. Measured with `npm run bench:soak` (see
 * the README: about 1 MB at 10,000 tags). A full collection of the agent's 15 MB heap costs a
 * few milliseconds.
 */
export function collectGarbageRegularly(log: AgentLogger): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') {
    log.debug('node runs without --expose-gc: no regular full garbage collection');
    return;
  }
  setInterval(gc, FULL_COLLECTION_EVERY_MS).unref();
}

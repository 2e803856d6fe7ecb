/** The part of a better-sqlite3 connection this needs. */
export interface PragmaConnection {
  pragma(source: string): unknown;
}

const GIVE_UP_AFTER_MS = 1_000;
const PAUSE_MS = 20;

/** SQLITE_BUSY, SQLITE_LOCKED and their extended codes (better-sqlite3 reports those). */
function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code);
}

/**
 * Puts a SQLite file several processes share (the old and the new app during a switch) into WAL
 * mode. Turning a new file into WAL takes an exclusive lock, and when two processes open the same
 * new file at the same moment SQLite answers one of them SQLITE_BUSY at once, without waiting
 * for the busy timeout (waiting could deadlock: both hold a read lock and want to write). The
 * other process finishes within milliseconds, so the loser tries again, pausing in between,
 * until a second has passed (on the monotonic clock) since the first try; then the error stands.
 */
export function enableWal(
  db: PragmaConnection,
  pause = sleepSync,
  now = () => performance.now(),
): void {
  const started = now();
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if (!isBusy(err) || now() - started >= GIVE_UP_AFTER_MS) throw err;
      pause(PAUSE_MS);
    }
  }
}

/** Blocks the thread (the connection's calls are synchronous anyway): only at start-up. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

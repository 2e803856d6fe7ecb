/** The part of a better-sqlite3 connection this needs. */
export interface PragmaConnection {
  pragma(source: string): unknown;
}

const ATTEMPTS = 50;
const PAUSE_MS = 20;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/**
 * Puts a SQLite file several processes share (the old and the new app during a switch) into WAL
 * mode. Turning a new file into WAL takes an exclusive lock, and when two processes open the same
 * new file at the same moment SQLite answers one of them SQLITE_BUSY at once, without waiting
 * for the busy timeout (waiting could deadlock: both hold a read lock and want to write). The
 * other process finishes within milliseconds, so the loser tries again, pausing in between, for
 * about a second before the error stands.
 */
export function enableWal(db: PragmaConnection, pause = sleepSync): void {
  for (let attempt = 1; ; attempt++) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if (!isBusy(err) || attempt >= ATTEMPTS) throw err;
      pause(PAUSE_MS);
    }
  }
}

/** Blocks the thread (the connection's calls are synchronous anyway): only at start-up. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

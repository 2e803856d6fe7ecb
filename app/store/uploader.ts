import pRetry from 'p-retry';
import { UploadError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CentralStore } from './central-store.js';
import type { Spool } from './spool.js';

export interface UploaderOptions {
  /** Unique per process; leases in the shared spool are taken in this name. */
  readonly owner: string;
  readonly batchSize: number;
  readonly intervalMs: number;
  readonly leaseMs: number;
  readonly minRetryMs: number;
  readonly maxRetryMs: number;
  readonly now: () => number;
}

/**
 * Moves readings from the spool to the central database. A reading is marked sent only after
 * the database committed it; a crash in between only causes a re-send, which the database
 * ignores because reading ids are unique.
 */
export class Uploader {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Readings this process sent, for logs and the tests' double-upload check. */
  uploaded = 0;

  constructor(
    private readonly spool: Spool,
    private readonly central: CentralStore,
    private readonly options: UploaderOptions,
    private readonly log: Logger,
  ) {}

  /** One batch: claim, insert, confirm. Returns how many readings were confirmed. */
  async uploadOnce(): Promise<number> {
    const { owner, batchSize, leaseMs, now } = this.options;
    const batch = this.spool.claim(owner, batchSize, now(), leaseMs);
    if (batch.length === 0) return 0;
    try {
      const inserted = await this.central.insertReadings(batch, new Date(now()));
      this.spool.markSent(
        batch.map((r) => r.id),
        now(),
      );
      this.uploaded += batch.length;
      this.log.debug({ sent: batch.length, inserted }, 'uploaded');
      return batch.length;
    } catch (cause) {
      throw new UploadError(batch.length, { cause });
    }
  }

  /** Sends everything pending, retrying with backoff and jitter until it works or stop(). */
  private async drain(): Promise<void> {
    let sent: number;
    do {
      sent = await pRetry(() => this.uploadOnce(), {
        retries: Number.POSITIVE_INFINITY,
        factor: 2,
        minTimeout: this.options.minRetryMs,
        maxTimeout: this.options.maxRetryMs,
        randomize: true,
        signal: this.stopping.signal,
        onFailedAttempt: ({ error, attemptNumber }) => {
          this.log.warn(
            {
              err: error.cause ?? error,
              attempt: attemptNumber,
              pending: this.spool.counts().pending,
            },
            'upload failed; will retry',
          );
        },
      });
    } while (sent === this.options.batchSize && !this.stopping.signal.aborted);
  }

  start(): void {
    this.loop = (async () => {
      while (!this.stopping.signal.aborted) {
        try {
          await this.drain();
        } catch (err) {
          if (!this.stopping.signal.aborted) this.log.error({ err }, 'upload loop error');
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.intervalMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    })();
  }

  /** Starts a drain now instead of at the next interval. */
  nudge(): void {
    this.wake?.();
  }

  /**
   * Stops the loop, then makes one last bounded attempt to send what is pending. Whatever is
   * left stays in the spool for the next process; nothing is dropped.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping.abort();
    this.wake?.();
    await this.loop;
    const deadline = this.options.now() + timeoutMs;
    try {
      while (this.options.now() < deadline) {
        const remaining = deadline - this.options.now();
        const attempt = this.uploadOnce();
        // If the deadline wins, the attempt may still finish or fail later; either is safe.
        attempt.catch(() => undefined);
        const sent = await Promise.race([
          attempt,
          new Promise<number>((resolve) => setTimeout(() => resolve(-1), remaining).unref()),
        ]);
        if (sent <= 0) break;
      }
    } catch (err) {
      this.log.warn({ err }, 'final upload failed; readings stay in the spool');
    }
    this.spool.release(this.options.owner);
  }
}

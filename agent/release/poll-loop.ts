import type { AgentLogger } from '../log.js';
import { nextPollDelay } from './poll-schedule.js';
import type { PollResult, ReleaseWatcher } from './release-watcher.js';
import type { Version } from './version.js';

export interface PollLoopOptions {
  readonly intervalMs: number;
  readonly jitter: number;
  readonly random: () => number;
  /** The running version and the versions that failed here, read before every poll. */
  readonly device: () => { current: Version | undefined; failed: ReadonlySet<string> };
  /** Called with each result; a target means a newer version should be deployed. */
  readonly onResult: (result: PollResult) => Promise<void>;
}

/** Polls the release source at a jittered interval, one poll at a time, until stopped. */
export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  last: PollResult | undefined;

  constructor(
    private readonly watcher: ReleaseWatcher,
    private readonly options: PollLoopOptions,
    private readonly log: AgentLogger,
  ) {}

  /**
   * The first poll comes after a random part of the jitter window, so a fleet that boots
   * together (after a power cut) does not sweep the server all at once.
   */
  start(): void {
    this.schedule(
      Math.round(this.options.random() * this.options.jitter * this.options.intervalMs),
    );
  }

  /** Polls now (e.g. `ota check`), or waits for the poll already under way. */
  async checkNow(): Promise<PollResult | undefined> {
    // Stopped (an agent hand-over: the new agent polls the same clone): no poll.
    if (this.stopped) return undefined;
    clearTimeout(this.timer);
    if (!this.running) this.running = this.pollOnce();
    await this.running;
    return this.last;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pollOnce();
    }, delayMs);
  }

  private async pollOnce(): Promise<void> {
    try {
      const { current, failed } = this.options.device();
      const result = await this.watcher.poll(current, failed);
      this.last = result;
      this.log.debug(
        { mode: result.mode, tags: result.tagsReceived, target: result.target?.version },
        'polled',
      );
      await this.options.onResult(result);
    } catch (err) {
      this.log.error({ err }, 'poll failed unexpectedly');
    } finally {
      this.running = undefined;
      const { intervalMs, jitter, random } = this.options;
      this.schedule(nextPollDelay(intervalMs, jitter, random));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Polls again after stop() (an agent hand-over that failed). */
  resume(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(nextPollDelay(this.options.intervalMs, this.options.jitter, this.options.random));
  }
}

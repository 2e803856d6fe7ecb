import type { AgentLogger } from '../log.js';
import type { AgentState } from '../state/agent-state.js';
import { type Change, markFailed, watched } from '../state/device-record.js';
import type { ContainerRuntime } from './container-runtime.js';
import { containerOf, type WatchVerdict, watchVerdict } from './plan.js';
import type { StepExecutor } from './step-executor.js';

export interface WatchOptions {
  readonly watchMs: number;
  readonly pollMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Monotonic ms: the window is time watched, saved as it goes, so a restart resumes it. */
  readonly now: () => number;
}

/** How often the time watched so far is written to the record (an SD card is not a log). */
const SAVE_EVERY_MS = 2_000;

export type WatchResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly version: string;
      readonly reason: string;
      /** The automatic rollback, already recorded as the change in flight. */
      readonly rollback: Change | undefined;
    };

/**
 * The watch window after a switch, resumed from the record after a restart. A version that
 * dies, restarts or turns unhealthy in it is marked failed and, in the same write, the
 * automatic rollback to the version it replaced becomes the change in flight.
 */
export class WatchRunner {
  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly state: AgentState,
    private readonly exec: StepExecutor,
    private readonly options: WatchOptions,
    private readonly log: AgentLogger,
  ) {}

  async run(): Promise<WatchResult> {
    const watch = (await this.state.record()).watch;
    if (!watch) return { ok: true };
    const { version } = watch;
    const container = containerOf(await this.runtime.list(), version);
    let verdict: WatchVerdict = container
      ? { ok: true }
      : { ok: false, reason: 'container disappeared' };
    let elapsed = watch.watchedMs;
    let saved = elapsed;
    let last = this.options.now();
    while (verdict.ok && elapsed < this.options.watchMs && container) {
      await this.exec.hook({ action: 'watch', version });
      await this.options.sleep(this.options.pollMs);
      const now = this.options.now();
      elapsed += now - last;
      last = now;
      verdict = watchVerdict(watch.restarts, await this.runtime.inspect(container.id));
      if (verdict.ok && elapsed - saved >= SAVE_EVERY_MS) {
        saved = elapsed;
        const watchedMs = Math.round(elapsed);
        await this.state.update((r) => ({ ...r, watch: r.watch && { ...r.watch, watchedMs } }));
      }
    }
    if (verdict.ok) {
      await this.state.update((r) => watched(r, version));
      await this.state.finishDeployment(watch.row, 'succeeded');
      this.log.info({ version, watchedMs: Math.round(elapsed) }, 'watch window passed');
      return { ok: true };
    }

    const reason = `after the switch: ${verdict.reason}`;
    this.log.error({ version, reason: verdict.reason }, 'failed in the watch window; rolling back');
    const from = watch.from;
    const row = from
      ? await this.state.startDeployment({
          from: version,
          to: from.version,
          commit: from.commit || null,
          kind: 'auto-rollback',
        })
      : undefined;
    const rollback: Change | undefined =
      from && row !== undefined
        ? { row, kind: 'auto-rollback', from: null, to: from, phase: 'starting', watch: false }
        : undefined;
    await this.state.update((r) => ({
      ...markFailed(r, version, reason),
      watch: null,
      change: rollback ?? null,
    }));
    await this.state.finishDeployment(watch.row, 'rolled-back', reason);
    return { ok: false, version, reason, rollback };
  }
}

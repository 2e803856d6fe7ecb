import { performance } from 'node:perf_hooks';
import { EngineStepError } from '../errors.js';
import type { AgentLogger } from '../log.js';
import type { AgentState } from '../state/agent-state.js';
import {
  type Change,
  type ChangeKind,
  committed,
  markFailed,
  previousOf,
  type Slot,
} from '../state/device-record.js';
import type { AppContainer, ContainerRuntime } from './container-runtime.js';
import { isUp, planAbort, planFinish, planSettle, planStart, type TargetImage } from './plan.js';
import { type ExecutorOptions, type GateResult, StepExecutor } from './step-executor.js';
import { WatchRunner } from './watch-runner.js';

export interface DeployerOptions extends Omit<ExecutorOptions, 'now'> {
  readonly healthTimeoutMs: number;
  /** After a switch, how long the new version must stay up before it counts as good. */
  readonly watchMs: number;
  /** The local image (reference) of a kept version, for rollbacks and repairs. */
  readonly imageOf: (version: string) => Promise<string | undefined>;
  /** A monotonic clock in ms; performance.now unless a test injects one. */
  readonly now?: () => number;
}

export type SwitchOutcome =
  | { readonly outcome: 'unchanged'; readonly version: string }
  | { readonly outcome: 'succeeded'; readonly version: string; readonly ms: number }
  | { readonly outcome: 'failed'; readonly version: string; readonly reason: string }
  | {
      readonly outcome: 'rolled-back';
      readonly version: string;
      readonly to: string | undefined;
      readonly reason: string;
    };

const slotOf = (c: AppContainer): Slot => ({
  version: c.version,
  commit: c.commit,
  image: c.image,
});

/**
 * Every change of the running app (update, rollback, pin, repair, the watch and its automatic
 * rollback) goes through here: the intent is written to the device record, then the planned
 * steps run one at a time, then the outcome is recorded. A restart resumes what was in flight
 * (reconcile), towards the change's target whatever its kind.
 */
export class Deployer {
  private readonly exec: StepExecutor;
  private readonly watcher: WatchRunner;
  private readonly now: () => number;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly state: AgentState,
    private readonly options: DeployerOptions,
    private readonly log: AgentLogger,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.exec = new StepExecutor(runtime, { ...options, now: this.now }, log);
    this.watcher = new WatchRunner(
      runtime,
      state,
      this.exec,
      {
        watchMs: options.watchMs,
        pollMs: options.pollMs,
        sleep: options.sleep,
        now: this.now,
      },
      log,
    );
  }

  /** The app that runs now: exactly one running container of the agent's, or undefined. */
  async running(): Promise<AppContainer | undefined> {
    const up = (await this.runtime.list()).filter((c) => c.state === 'running');
    return up.length === 1 ? up[0] : undefined;
  }

  /**
   * The health gate of a deployment, on a container that runs already (remote actions:
   * restart-app, health-check): healthy within the timeout, or why not.
   */
  checkHealth(container: string, version: string): Promise<GateResult> {
    const timeoutMs = this.options.healthTimeoutMs;
    return this.exec.run([{ action: 'await-healthy', container, version, timeoutMs }], undefined);
  }

  /** What `ota rollback` goes back to, from the record (never from a window of history). */
  async previousVersion(): Promise<string | undefined> {
    return previousOf(await this.state.record());
  }

  /** Starts `target` next to the running version, switches once it is healthy, watches it. */
  async switchTo(
    target: TargetImage,
    kind: ChangeKind = 'switch',
    watch = true,
  ): Promise<SwitchOutcome> {
    await this.reconcile();
    const record = await this.state.record();
    const up = (await this.runtime.list()).filter(isUp);
    if (record.running?.version === target.version && up.length === 1) {
      return { outcome: 'unchanged', version: target.version };
    }
    await this.runtime.prepare(this.options.spec(target));
    const from = record.running ?? (up[0] ? slotOf(up[0]) : null);
    return this.begin(kind, from, target, watch && this.options.watchMs > 0);
  }

  /**
   * Back to a kept version (its stopped container, else its image) with no network. The
   * version the operator leaves is marked failed, so the next poll does not bring it back.
   */
  async rollbackTo(version: string, kind: ChangeKind = 'rollback'): Promise<SwitchOutcome> {
    await this.reconcile();
    const kept = (await this.runtime.list()).find((c) => c.version === version);
    const image = kept?.image ?? (await this.options.imageOf(version));
    if (!image) throw new Error(`no local image or container for version ${version}`);
    const leaving = (await this.state.record()).running;
    if (leaving && leaving.version !== version && kind === 'rollback') {
      await this.state.markFailed(leaving.version, 'rolled back by the operator');
    }
    const result = await this.switchTo({ version, commit: kept?.commit ?? '', image }, kind, false);
    if (result.outcome === 'succeeded')
      this.log.info({ version, from: leaving?.version }, 'rolled back');
    return result;
  }

  /**
   * Makes the engine match the record: resumes a change or a watch a kill cut short, adopts
   * the running app if the record knows none, brings back the recorded version if another one
   * (or none) runs. Returns the version that runs afterwards.
   */
  async reconcile(): Promise<string | undefined> {
    let record = await this.state.record();
    await this.state.closeOrphans([record.change?.row, record.watch?.row]);
    if (record.change) {
      this.log.warn(
        { kind: record.change.kind, version: record.change.to.version },
        'resuming change',
      );
      await this.drive(record.change);
    } else if (record.watch) {
      this.log.warn({ version: record.watch.version }, 'resuming watch window');
      await this.afterWatch(await this.watcher.run());
    }
    record = await this.state.record();
    const containers = await this.runtime.list();
    const settle = planSettle(containers, record.running?.version);
    switch (settle.kind) {
      case 'empty':
        return undefined;
      case 'ok':
        await this.exec.run(settle.cleanup, undefined);
        return record.running?.version;
      case 'adopt':
        this.log.warn({ version: settle.container.version }, 'adopted the app found running');
        await this.state.save({ ...record, running: slotOf(settle.container) });
        return this.reconcile();
      case 'restore': {
        const to = record.running as Slot;
        this.log.warn({ version: to.version, found: settle.from?.version }, 'repairing');
        await this.begin('repair', settle.from ? slotOf(settle.from) : null, to, false);
        return (await this.state.record()).running?.version;
      }
    }
  }

  /** Backwards-compatible name: repair is reconcile after a start. */
  repair(): Promise<string | undefined> {
    return this.reconcile();
  }

  private async begin(
    kind: ChangeKind,
    from: Slot | null,
    to: Slot,
    watch: boolean,
  ): Promise<SwitchOutcome> {
    const row = await this.state.startDeployment({
      from: from?.version ?? null,
      to: to.version,
      commit: to.commit || null,
      kind,
    });
    const change: Change = { row, kind, from, to, phase: 'starting', watch };
    await this.state.update((r) => ({ ...r, change }));
    this.log.info({ version: to.version, from: from?.version, kind }, 'starting');
    return this.drive(change);
  }

  private async drive(change: Change): Promise<SwitchOutcome> {
    const started = this.now();
    const version = change.to.version;
    if (change.phase === 'starting') {
      const gate = await this.gate(change);
      if (!gate.ok) return this.abort(change, gate.reason, gate.transient);
      this.log.info({ version, ms: Math.round(this.now() - started) }, 'healthy');
      change = { ...change, phase: 'switching' };
      const next = change;
      await this.state.update((r) => ({ ...r, change: next }));
    }
    const record = await this.state.record();
    const keep = previousOf(committed(record, change, 0));
    await this.exec.run(planFinish(await this.runtime.list(), version, keep), undefined);
    await this.exec.hook({ action: 'commit', version });
    const restarts = (await this.runtime.list()).find((c) => c.version === version && isUp(c));
    await this.state.update((r) => committed(r, change, restarts?.restartCount ?? 0));
    const ms = Math.round(this.now() - started);
    this.log.info({ version, from: change.from?.version, kind: change.kind, ms }, 'switched');
    if (!change.watch) {
      await this.state.finishDeployment(change.row, 'succeeded');
      return { outcome: 'succeeded', version, ms };
    }
    const verdict = await this.afterWatch(await this.watcher.run());
    return verdict ?? { outcome: 'succeeded', version, ms };
  }

  /** The health gate; an engine error while starting the target fails the change too. */
  private async gate(
    change: Change,
  ): Promise<{ ok: true } | { ok: false; reason: string; transient: boolean }> {
    try {
      await this.runtime.prepare(this.options.spec(change.to));
      const steps = planStart(await this.runtime.list(), change.to, this.options.healthTimeoutMs);
      const result = await this.exec.run(steps, change.to);
      return result.ok ? { ok: true } : { ok: false, reason: result.reason, transient: false };
    } catch (err) {
      if (!(err instanceof EngineStepError)) throw err;
      return { ok: false, reason: err.message, transient: !err.releaseFault };
    }
  }

  /** The target failed before the switch: remove it, make sure the old version runs. */
  private async abort(change: Change, reason: string, transient: boolean): Promise<SwitchOutcome> {
    const version = change.to.version;
    this.log.error({ version, reason, kind: change.kind, transient }, 'health gate failed');
    const steps = planAbort(
      await this.runtime.list(),
      version,
      change.from,
      this.options.healthTimeoutMs,
    );
    await this.exec.run(steps, change.from ?? undefined);
    const permanent = !transient && change.kind !== 'repair';
    await this.state.update((r) => ({
      ...(permanent ? markFailed(r, version, reason) : r),
      running: change.kind === 'repair' ? (change.from ?? r.running) : r.running,
      change: null,
    }));
    await this.state.finishDeployment(
      change.row,
      'failed',
      transient ? `${reason} (will retry)` : reason,
    );
    return { outcome: 'failed', version, reason };
  }

  /** After a watch: a failed one has become an automatic rollback (recorded), run it now. */
  private async afterWatch(
    verdict: Awaited<ReturnType<WatchRunner['run']>>,
  ): Promise<SwitchOutcome | undefined> {
    if (verdict.ok) return undefined;
    const back = verdict.rollback ? await this.drive(verdict.rollback) : undefined;
    return {
      outcome: 'rolled-back',
      version: verdict.version,
      to: back?.outcome === 'succeeded' ? verdict.rollback?.to.version : undefined,
      reason: verdict.reason,
    };
  }
}

import { EngineStepError } from '../errors.js';
import type { AgentLogger } from '../log.js';
import type { AppRunSpec, ContainerRuntime } from './container-runtime.js';
import { gateVerdict, NEW, type Step, type TargetImage, type WatchVerdict } from './plan.js';

/** A point the executor passes: a step, the commit of a change, or a tick of the watch. */
export type HookPoint = Step | { readonly action: 'commit' | 'watch'; readonly version: string };

export interface ExecutorOptions {
  readonly stopTimeoutS: number;
  readonly pollMs: number;
  readonly spec: (target: TargetImage) => AppRunSpec;
  readonly sleep: (ms: number) => Promise<void>;
  /** A monotonic clock in ms (performance.now): deadlines must not move when NTP steps. */
  readonly now: () => number;
  /** Called before each step; tests use it to cut the agent off at every step. */
  readonly beforeStep?: (point: HookPoint) => void | Promise<void>;
}

export type GateResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Runs planned steps one at a time against the container runtime. */
export class StepExecutor {
  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly options: ExecutorOptions,
    private readonly log: AgentLogger,
  ) {}

  hook(point: HookPoint): void | Promise<void> {
    return this.options.beforeStep?.(point);
  }

  /** Runs the steps; stops at a failed health gate. Engine errors are thrown to the caller. */
  async run(steps: readonly Step[], target: TargetImage | undefined): Promise<GateResult> {
    const ids = new Map<string, string>();
    for (const step of steps) {
      await this.hook(step);
      try {
        const verdict = await this.step(step, target, ids);
        if (verdict && !verdict.ok) return verdict;
      } catch (err) {
        if (err instanceof EngineStepError) throw err;
        throw new EngineStepError(step.action, step.version, isReleaseFault(step, err), {
          cause: err,
        });
      }
    }
    return { ok: true };
  }

  private async step(
    step: Step,
    target: TargetImage | undefined,
    ids: Map<string, string>,
  ): Promise<WatchVerdict | undefined> {
    if (step.action === 'create') {
      if (!target) throw new Error('a create step needs a target image');
      ids.set(NEW, await this.runtime.create(this.options.spec(target)));
      return undefined;
    }
    const container = ids.get(step.container) ?? step.container;
    switch (step.action) {
      case 'start':
        await this.runtime.start(container);
        this.log.info({ version: step.version }, 'container started');
        break;
      case 'stop':
        this.log.info({ version: step.version }, 'stopping old version');
        await this.runtime.stop(container, this.options.stopTimeoutS);
        break;
      case 'remove':
        this.log.info({ version: step.version, reason: step.reason }, 'removing container');
        await this.runtime.remove(container);
        break;
      case 'await-healthy':
        return this.awaitHealthy(container, step.timeoutMs);
    }
    return undefined;
  }

  private async awaitHealthy(id: string, timeoutMs: number): Promise<WatchVerdict> {
    const deadline = this.options.now() + timeoutMs;
    const before = await this.runtime.inspect(id);
    for (;;) {
      const now = await this.runtime.inspect(id);
      const verdict = gateVerdict(before, now);
      if (verdict) return verdict;
      // Starting: run the container's own check now rather than wait for the engine's interval.
      if (now?.state === 'running' && (await this.runtime.probe(id))) {
        this.log.debug({ container: id }, 'health check passed (run by the agent)');
        return { ok: true };
      }
      if (this.options.now() >= deadline) {
        return {
          ok: false,
          reason: `not healthy within ${Math.round(timeoutMs / 1000)} s (${now?.health})`,
        };
      }
      await this.options.sleep(this.options.pollMs);
    }
  }
}

/**
 * Did the engine say the release cannot run? It answers create/start with 4xx for a missing
 * image or executable ("executable file not found", "no such file or directory"); a socket
 * error or a timeout has no status code and is the engine's trouble, not the release's.
 */
function isReleaseFault(step: Step, err: unknown): boolean {
  if (step.action !== 'create' && step.action !== 'start') return false;
  const status = (err as { statusCode?: number }).statusCode;
  const message = String((err as Error)?.message ?? '');
  return (
    (status !== undefined && status >= 400 && status < 500) ||
    /executable file not found|no such file or directory|OCI runtime create failed/i.test(message)
  );
}

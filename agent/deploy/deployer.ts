import type { AgentLogger } from '../log.js';
import type { AgentState, DeploymentKind } from '../state/agent-state.js';
import type { AppContainer, AppRunSpec, ContainerRuntime } from './container-runtime.js';
import {
  gateVerdict,
  NEW,
  planRepair,
  planSwitch,
  type Step,
  type TargetImage,
  type WatchVerdict,
  watchVerdict,
} from './plan.js';

export interface DeployerOptions {
  readonly healthTimeoutMs: number;
  /** After a switch, how long the new version must stay up before it counts as good. */
  readonly watchMs: number;
  readonly stopTimeoutS: number;
  readonly pollMs: number;
  /** The run spec for a version's container (same for every version but image and version). */
  readonly spec: (target: TargetImage) => AppRunSpec;
  /** The local image (reference) of a kept version, for rollbacks and repairs. */
  readonly imageOf: (version: string) => Promise<string | undefined>;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  /** Called before each step; tests use it to cut the agent off at every step of a switch. */
  readonly beforeStep?: (step: Step) => void | Promise<void>;
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

/** Carries out switch, rollback and repair plans against the container runtime. */
export class Deployer {
  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly state: AgentState,
    private readonly options: DeployerOptions,
    private readonly log: AgentLogger,
  ) {}

  /** The app that runs now: exactly one running container of the agent's, or undefined. */
  async running(): Promise<AppContainer | undefined> {
    const up = (await this.runtime.list()).filter((c) => c.state === 'running');
    return up.length === 1 ? up[0] : undefined;
  }

  /**
   * The last version that ran successfully before the running one and has not failed since:
   * what `ota rollback` goes back to.
   */
  async previousVersion(): Promise<string | undefined> {
    const current = (await this.running())?.version;
    const failed = await this.state.failedVersions();
    const history = await this.state.history(500);
    return history.find((d) => d.outcome === 'succeeded' && d.to !== current && !failed.has(d.to))
      ?.to;
  }

  /**
   * Starts `target` next to the running version, switches once it is healthy, and watches it;
   * a version that fails the gate or the watch is recorded as failed and the old one stays or
   * comes back.
   */
  async switchTo(
    target: TargetImage,
    kind: DeploymentKind = 'switch',
    watch = true,
  ): Promise<SwitchOutcome> {
    const containers = await this.runtime.list();
    const from = containers.find((c) => c.state === 'running');
    const plan = planSwitch(containers, target, this.options.healthTimeoutMs);
    if (plan.start.length === 0) return { outcome: 'unchanged', version: target.version };

    await this.runtime.prepare(this.options.spec(target));
    const started = this.options.now();
    const id = await this.state.startDeployment({
      from: from?.version ?? null,
      to: target.version,
      commit: target.commit,
      kind,
    });
    this.log.info({ version: target.version, from: from?.version, kind }, 'starting');
    const gate = await this.execute(plan.start, target);
    if (!gate.ok) {
      this.log.error({ version: target.version, reason: gate.reason }, 'health gate failed');
      await this.execute(plan.onFailure, target, gate.ids);
      await this.state.markFailed(target.version, gate.reason);
      await this.state.finishDeployment(id, 'failed', gate.reason);
      return { outcome: 'failed', version: target.version, reason: gate.reason };
    }
    const ms = this.options.now() - started;
    this.log.info({ version: target.version, ms }, 'healthy');
    await this.execute(plan.onHealthy, target, gate.ids);
    this.log.info({ version: target.version, from: from?.version, ms }, 'switched');
    await this.state.finishDeployment(id, 'succeeded');

    if (!watch || this.options.watchMs <= 0)
      return { outcome: 'succeeded', version: target.version, ms };
    const verdict = await this.watch(gate.ids.get(NEW) ?? gate.container);
    if (verdict.ok) return { outcome: 'succeeded', version: target.version, ms };

    this.log.error(
      { version: target.version, reason: verdict.reason },
      'failed in the watch window; rolling back',
    );
    await this.state.markFailed(target.version, `after the switch: ${verdict.reason}`);
    await this.state.finishDeployment(id, 'rolled-back', `after the switch: ${verdict.reason}`);
    const back = from ? await this.rollbackTo(from.version, 'auto-rollback') : undefined;
    return {
      outcome: 'rolled-back',
      version: target.version,
      to: back?.outcome === 'succeeded' ? from?.version : undefined,
      reason: verdict.reason,
    };
  }

  /**
   * Back to a kept version (its stopped container, else its image) with no network. The
   * version left behind is marked failed, so the next poll does not bring it straight back.
   */
  async rollbackTo(version: string, kind: DeploymentKind = 'rollback'): Promise<SwitchOutcome> {
    const containers = await this.runtime.list();
    const leaving = containers.find((c) => c.state === 'running');
    const kept = containers.find((c) => c.version === version);
    const image = kept?.image ?? (await this.options.imageOf(version));
    if (!image) throw new Error(`no local image or container for version ${version}`);
    if (leaving && leaving.version !== version && kind === 'rollback') {
      await this.state.markFailed(leaving.version, 'rolled back by the operator');
    }
    const result = await this.switchTo({ version, commit: kept?.commit ?? '', image }, kind, false);
    if (result.outcome === 'succeeded')
      this.log.info({ version, from: leaving?.version }, 'rolled back');
    return result;
  }

  /** On start: exactly one running app of a known version, whatever state a kill left. */
  async repair(): Promise<string | undefined> {
    const unfinished = await this.state.unfinished();
    const history = await this.state.history(50);
    const current = history.find((d) => d.outcome === 'succeeded')?.to;
    const containers = await this.runtime.list();
    const plan = planRepair(
      containers,
      {
        current,
        inProgress: unfinished ? { from: unfinished.from, to: unfinished.to } : undefined,
      },
      this.options.healthTimeoutMs,
    );
    if (plan.steps.length > 0) {
      this.log.warn({ steps: plan.steps.map((s) => `${s.action} ${s.version}`) }, 'repairing');
    }
    const target = { version: plan.keep ?? '', commit: '', image: '' };
    const result = await this.execute(plan.steps, target);
    if (unfinished) {
      const finished = plan.keep === unfinished.to && result.ok;
      await this.state.finishDeployment(
        unfinished.id,
        finished ? 'succeeded' : 'abandoned',
        finished ? 'completed after an agent restart' : 'agent stopped during the switch',
      );
    }
    if (!plan.keep && current) {
      const image = await this.options.imageOf(current);
      if (image) await this.switchTo({ version: current, commit: '', image }, 'repair', false);
      return current;
    }
    return plan.keep;
  }

  private async execute(
    steps: readonly Step[],
    target: TargetImage,
    ids = new Map<string, string>(),
  ): Promise<
    | { ok: true; ids: Map<string, string>; container: string }
    | { ok: false; reason: string; ids: Map<string, string> }
  > {
    let last = '';
    for (const step of steps) {
      await this.options.beforeStep?.(step);
      if (step.action === 'create') {
        ids.set(NEW, await this.runtime.create(this.options.spec(target)));
        continue;
      }
      const container = ids.get(step.container) ?? step.container;
      last = container;
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
        case 'await-healthy': {
          const verdict = await this.awaitHealthy(container, step.timeoutMs);
          if (!verdict.ok) return { ok: false, reason: verdict.reason, ids };
          break;
        }
      }
    }
    return { ok: true, ids, container: last };
  }

  private async awaitHealthy(id: string, timeoutMs: number): Promise<WatchVerdict> {
    const deadline = this.options.now() + timeoutMs;
    const before = await this.runtime.inspect(id);
    for (;;) {
      const now = await this.runtime.inspect(id);
      const verdict = gateVerdict(before, now);
      if (verdict) return verdict;
      if (this.options.now() >= deadline) {
        return {
          ok: false,
          reason: `not healthy within ${Math.round(timeoutMs / 1000)} s (${now?.health})`,
        };
      }
      await this.options.sleep(this.options.pollMs);
    }
  }

  private async watch(id: string): Promise<WatchVerdict> {
    const before = await this.runtime.inspect(id);
    if (!before) return { ok: false, reason: 'container disappeared' };
    const end = this.options.now() + this.options.watchMs;
    while (this.options.now() < end) {
      await this.options.sleep(this.options.pollMs);
      const verdict = watchVerdict(before, await this.runtime.inspect(id));
      if (!verdict.ok) return verdict;
    }
    return { ok: true };
  }
}

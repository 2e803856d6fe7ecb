import type { AppContainer } from '../deploy/container-runtime.js';
import type { GateResult } from '../deploy/step-executor.js';
import type { AgentLogger } from '../log.js';
import { dueActions, type RemoteAction } from '../release/remote-actions.js';
import type { ActionLedger } from '../state/action-ledger.js';

/** What the runner needs of the deployer and the engine. */
export interface ActionTargets {
  /** The app that runs now, if exactly one does. */
  running(): Promise<AppContainer | undefined>;
  /** A deployment's health gate on a running container. */
  checkHealth(container: string, version: string): Promise<GateResult>;
  restart(container: string, timeoutS: number): Promise<void>;
}

export interface ActionRunnerOptions {
  readonly stopTimeoutS: number;
  /** The diagnostics bundle as JSON text (diagnostics.ts). */
  readonly diagnostics: () => Promise<string>;
  /**
   * Called after the intent is recorded (`act`) and after the act, before its outcome is
   * (`record`); tests cut the agent off there.
   */
  readonly beforePoint?: (point: 'act' | 'record', action: RemoteAction) => void | Promise<void>;
}

export interface ActionOutcome {
  readonly id: string;
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * Runs remote actions: each id is recorded before it runs (so it runs at most once here, even
 * when the agent is killed in it), then acted on, then its outcome recorded. The caller runs it
 * inside the agent's queue, so an action never overlaps a deployment, a rollback or a pin.
 */
export class ActionRunner {
  constructor(
    private readonly ledger: ActionLedger,
    private readonly targets: ActionTargets,
    private readonly options: ActionRunnerOptions,
    private readonly log: AgentLogger,
  ) {}

  /** At start-up: what a previous run was doing when it stopped is interrupted, not redone. */
  async recover(): Promise<void> {
    for (const id of await this.ledger.interruptOpen()) {
      this.log.warn({ action: id }, 'remote action interrupted by a restart; not run again');
    }
  }

  /** Whether any is due: most polls find none, and then nothing is queued (nor reported). */
  async anyDue(
    actions: readonly RemoteAction[],
    device: { readonly id: string; readonly groups: readonly string[] },
  ): Promise<boolean> {
    return dueActions(actions, await this.ledger.recordedIds(), device).length > 0;
  }

  /** The policy's actions due on this device, one at a time, in policy order. */
  async runDue(
    actions: readonly RemoteAction[],
    device: { readonly id: string; readonly groups: readonly string[] },
  ): Promise<ActionOutcome[]> {
    const outcomes: ActionOutcome[] = [];
    for (const action of dueActions(actions, await this.ledger.recordedIds(), device)) {
      const outcome = await this.run(action);
      if (outcome) outcomes.push(outcome);
    }
    return outcomes;
  }

  /** Runs one action unless its id was recorded before; undefined when it was. */
  async run(action: RemoteAction): Promise<ActionOutcome | undefined> {
    if (!(await this.ledger.begin(action.id, action.do))) return undefined;
    this.log.info({ action: action.id, do: action.do }, 'remote action started');
    await this.options.beforePoint?.('act', action);
    let result: { ok: boolean; detail: string };
    try {
      result = await this.execute(action);
    } catch (err) {
      result = { ok: false, detail: `${action.do} failed: ${(err as Error).message}` };
    }
    await this.options.beforePoint?.('record', action);
    await this.ledger.finish(action.id, result.ok ? 'succeeded' : 'failed', result.detail);
    const fields = { action: action.id, do: action.do, ok: result.ok };
    if (result.ok) this.log.info(fields, 'remote action succeeded');
    else this.log.error({ ...fields, detail: result.detail.slice(0, 500) }, 'remote action failed');
    return { id: action.id, ...result };
  }

  private async execute(action: RemoteAction): Promise<{ ok: boolean; detail: string }> {
    if (action.do === 'diagnostics') return { ok: true, detail: await this.options.diagnostics() };
    const app = await this.targets.running();
    if (!app) return { ok: false, detail: 'no app is running' };
    if (action.do === 'restart-app') {
      await this.targets.restart(app.id, this.options.stopTimeoutS);
      this.log.info({ version: app.version, container: app.name }, 'app restarted');
    }
    // Outcome only: a failed gate is recorded, never rolled back (an action changes no version).
    const gate = await this.targets.checkHealth(app.id, app.version);
    const what = action.do === 'restart-app' ? 'restarted, ' : '';
    return gate.ok
      ? { ok: true, detail: `${app.version} ${what}healthy` }
      : { ok: false, detail: `${app.version} ${what}not healthy: ${gate.reason}` };
  }
}

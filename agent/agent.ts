import type { ActionRunner } from './actions/action-runner.js';
import type { ActionResult, AgentControl, StatusReport } from './control/control-api.js';
import type { Deployer } from './deploy/deployer.js';
import type { ImageStore } from './image/image-store.js';
import type { AgentLogger } from './log.js';
import type { PollLoop } from './release/poll-loop.js';
import type { PollResult, ReleaseTarget } from './release/release-watcher.js';
import type { RemoteAction } from './release/remote-actions.js';
import { parseVersion, type Version } from './release/version.js';
import { BackgroundReport } from './report/background-report.js';
import type { CentralReporter, FleetReport } from './report/central-reporter.js';
import type { SelfUpdater } from './self/self-updater.js';
import type { AgentState } from './state/agent-state.js';
import type { StatusBoard } from './status.js';
import { statusReport } from './status-report.js';
import type { Updater } from './updater.js';

/**
 * The agent as a service: reacts to poll results, serialises every change to the running app
 * (update, rollback, pin) so two never overlap, and answers `ota` commands.
 */
export class Agent implements AgentControl {
  private failed = new Map<string, string>();
  private pinned: string | undefined;
  private current: Version | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private updating = false;
  private acting = false;
  /** Charge passed to a new agent: this one changes nothing any more and waits to be removed. */
  private retired = false;
  private readonly reports: BackgroundReport | undefined;
  private loop: PollLoop | undefined;

  constructor(
    private readonly deviceId: string,
    private readonly channel: string,
    private readonly updater: Updater,
    private readonly deployer: Deployer,
    private readonly images: ImageStore,
    private readonly state: AgentState,
    private readonly board: StatusBoard,
    private readonly log: AgentLogger,
    private readonly reporter?: Pick<CentralReporter, 'sync' | 'syncActions' | 'fleet'>,
    private readonly groups: readonly string[] = [],
    private readonly actions?: ActionRunner,
    private readonly selfUpdate?: SelfUpdater,
    /** The lease names another agent: main exits, and the restart finds this agent's role. */
    private readonly onLostCharge: () => void = () => undefined,
  ) {
    this.reports =
      reporter &&
      new BackgroundReport(reporter, state, () => ({ groups, channel, pinned: this.pinned }), log);
  }

  /** Repairs what a previous run left, then starts polling. */
  async start(makeLoop: (agent: Agent) => PollLoop): Promise<void> {
    await this.updater.removeLeftovers();
    await this.actions?.recover();
    await this.refresh();
    // Resumes a change or a watch window a kill cut short (a watch can take minutes: polls
    // start meanwhile and queue behind it).
    void this.serial(async () => {
      const kept = await this.deployer.reconcile();
      this.log.info({ version: kept }, kept ? 'running version' : 'no app deployed yet');
    }).catch((err) =>
      this.log.error({ err }, 'could not repair the app; will retry at the next poll'),
    );
    this.loop = makeLoop(this);
    this.loop.start();
    this.board.set('idle');
  }

  async stop(): Promise<void> {
    this.board.set('stopping');
    await this.loop?.stop();
  }

  /** For the poll loop: what runs and what must not be tried again. */
  device(): { current: Version | undefined; failed: ReadonlySet<string> } {
    return { current: this.current, failed: new Set(this.failed.keys()) };
  }

  /**
   * Starts an update for a newer target and returns at once: polls (and `ota check`) never
   * wait for a build or a health gate, and while one update runs, later results are ignored.
   */
  async onPoll(result: PollResult): Promise<void> {
    this.board.lastPoll = result;
    this.update(result);
    if (result.actions) await this.act(result.actions);
  }

  private update(result: PollResult): void {
    const target = result.target;
    if (this.pinned || !target || this.updating || this.retired) return;
    this.updating = true;
    this.serial(() => this.agentFirst(target))
      .catch((err) => this.log.error({ err, version: target.version }, 'update failed'))
      .finally(() => {
        this.updating = false;
      });
  }

  /** A release that changes the agent updates the agent first; the new agent deploys its app. */
  private async agentFirst(target: ReleaseTarget): Promise<unknown> {
    const loop = this.loop;
    const agent = loop && (await this.selfUpdate?.apply(target, loop));
    if (agent === 'handed-over' || agent === 'lost-charge') {
      this.retired = true;
      this.board.set('handed-over', target.version);
    }
    if (agent === 'lost-charge') this.onLostCharge();
    return agent === undefined || agent === 'not-needed' ? this.updater.apply(target) : agent;
  }

  /**
   * Queues the policy's remote actions behind whatever change is queued (an action never runs
   * during a deployment); which are due is decided again inside the queue, from the recorded
   * ids. Returns once they are queued (a local read), not once they ran; most polls find none
   * due, and then nothing is queued.
   */
  private async act(actions: readonly RemoteAction[]): Promise<void> {
    const runner = this.actions;
    if (!runner || this.acting || this.retired) return;
    const device = { id: this.deviceId, groups: this.groups };
    try {
      if (!(await runner.anyDue(actions, device))) return;
    } catch (err) {
      this.log.error({ err }, 'remote actions failed');
      return;
    }
    this.acting = true;
    this.serial(() => runner.runDue(actions, device))
      .catch((err) => this.log.error({ err }, 'remote actions failed'))
      .finally(() => {
        this.acting = false;
      });
  }

  /**
   * Runs work after everything queued before it. Once charge passed to a new agent, nothing
   * queued here touches the app any more (a pin or action that waited behind the hand-over).
   */
  private async serial<T>(work: () => Promise<T>): Promise<T> {
    const guarded = () =>
      this.retired
        ? Promise.reject(new Error('this agent handed charge to a new agent: ask that one'))
        : work();
    const run = this.queue.then(guarded, guarded);
    this.queue = run.catch(() => undefined).then(() => this.refresh());
    return run;
  }

  private async refresh(): Promise<void> {
    const record = await this.state.record();
    this.failed = new Map(Object.entries(record.failed));
    this.pinned = record.pinned ?? undefined;
    this.current = record.running ? parseVersion(record.running.version) : undefined;
    this.reports?.request();
  }

  async status(): Promise<StatusReport> {
    return statusReport({
      deviceId: this.deviceId,
      channel: this.channel,
      agent: this.selfUpdate?.describe(),
      running: await this.deployer.running(),
      record: await this.state.record(),
      board: this.board,
      pinned: this.pinned,
      failed: this.failed,
    });
  }

  async fleet(): Promise<FleetReport> {
    if (!this.reporter) throw new Error('central reporting is off on this device: no fleet view');
    return this.reporter.fleet();
  }

  history(limit: number) {
    return this.state.history(limit);
  }

  /** Remote actions recorded here, newest first (without diagnostics bundles: see the central database). */
  async remoteActions(limit: number) {
    return (await this.state.actions.list(limit)).map((a) =>
      a.kind === 'diagnostics' && a.detail
        ? { ...a, detail: `bundle of ${a.detail.length} bytes` }
        : a,
    );
  }

  async check(): Promise<ActionResult> {
    const result = await this.loop?.checkNow();
    if (!result) return { ok: false, message: 'the poll loop is not running' };
    if (result.error) return { ok: false, message: `poll failed: ${result.error.message}` };
    const message = result.target
      ? this.pinned
        ? `${result.target.version} is available; pinned to ${this.pinned}`
        : `${result.target.version} is available; deploying`
      : 'up to date';
    return { ok: true, message, detail: { mode: result.mode, excluded: result.excluded } };
  }

  async rollback(version: string | undefined): Promise<ActionResult> {
    // "Back from what runs now": if an automatic rollback (or another change) moved the app
    // while this request waited in the queue, going back again would skip a version.
    const seen = (await this.state.record()).running?.version;
    const outcome = await this.serial(async () => {
      const now = (await this.state.record()).running?.version;
      if (version === undefined && seen !== undefined && now !== seen) {
        return { outcome: 'unchanged' as const, version: now ?? seen };
      }
      return this.updater.rollback(version);
    });
    return {
      ok: outcome.outcome === 'succeeded' || outcome.outcome === 'unchanged',
      message: `rollback to ${outcome.version}: ${outcome.outcome}`,
      detail: outcome,
    };
  }

  async pin(version: string): Promise<ActionResult> {
    return this.serial(async () => {
      const before = await this.state.record();
      // The pin is recorded first, so no update queued meanwhile can override it.
      await this.state.save({ ...before, pinned: version });
      if (before.running?.version !== version) {
        const image = await this.images.find(version);
        if (!image) {
          await this.state.update((r) => ({ ...r, pinned: before.pinned }));
          return {
            ok: false,
            message: `no local image of ${version}: pin the running version or a kept one (see ota history)`,
          };
        }
        const outcome = await this.deployer.switchTo(
          { version, commit: image.commit, image: image.ref },
          'pin',
          false,
        );
        if (outcome.outcome !== 'succeeded') {
          await this.state.update((r) => ({ ...r, pinned: before.pinned }));
          return {
            ok: false,
            message: `could not switch to ${version}: ${outcome.outcome}`,
            detail: outcome,
          };
        }
      }
      this.log.info({ version }, 'pinned');
      return { ok: true, message: `pinned to ${version}; new releases are ignored until unpin` };
    });
  }

  /** Clears a version's failed mark, so the next poll may deploy it again. */
  async retry(version: string): Promise<ActionResult> {
    return this.serial(async () => {
      const cleared = await this.state.clearFailed(version);
      if (!cleared) return { ok: false, message: `${version} is not marked failed` };
      this.log.info({ version }, 'failed mark cleared');
      return { ok: true, message: `${version} may be deployed again at the next poll` };
    });
  }

  async unpin(): Promise<ActionResult> {
    return this.serial(async () => {
      await this.state.update((r) => ({ ...r, pinned: null }));
      this.log.info('unpinned');
      return { ok: true, message: 'unpinned; the next poll follows releases again' };
    });
  }
}

import type { AgentLogger } from '../log.js';
import type { AgentState } from '../state/agent-state.js';
import type { CentralReporter, DeviceInfo } from './central-reporter.js';

/**
 * Copies the device's history and remote actions to the central database in the background:
 * a slow or half-open link to it must never delay a change (nobody waits for it), and one sync
 * runs at a time. A request made while one runs is served by another sync right after it, so
 * what changed meanwhile (an action's outcome) does not wait for the next change.
 */
export class BackgroundReport {
  private running = false;
  private again = false;

  constructor(
    private readonly reporter: Pick<CentralReporter, 'sync' | 'syncActions'>,
    private readonly state: AgentState,
    private readonly device: () => DeviceInfo,
    private readonly log: AgentLogger,
  ) {}

  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.once()
      .catch((err) => this.log.warn({ err }, 'central report failed'))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.request();
        }
      });
  }

  private async once(): Promise<void> {
    await this.reporter.sync(await this.state.history(50), this.device());
    const sent = await this.reporter.syncActions(await this.state.actions.unreported());
    for (const a of sent) await this.state.actions.markReported(a.id, a.state);
  }
}

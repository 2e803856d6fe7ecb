import { BuildError } from '../errors.js';
import { buildFromTree } from '../image/build-from-tree.js';
import type { AppImage, ImageStore } from '../image/image-store.js';
import type { AgentLogger } from '../log.js';
import type { ReleaseSource } from '../release/release-source.js';
import type { ReleaseTarget } from '../release/release-watcher.js';
import type { AgentState } from '../state/agent-state.js';
import { markFailed } from '../state/device-record.js';
import type { AgentContainers, SelfAgent } from './agent-containers.js';
import { AGENT_INPUTS, agentChanges, fingerprintOf, type InputsOrigin } from './agent-inputs.js';
import { StateNotSharedError } from './candidate-spec.js';
import { candidateName, canonicalName, type Handover } from './handover-record.js';
import { ownSocketPath } from './own-container.js';
import { askSelf } from './self-socket.js';
import type { Pause } from './test-pause.js';

export interface SelfUpdateOptions {
  readonly enabled: boolean;
  readonly timeoutMs: number;
  readonly stateDir: string;
  readonly repoUrl: string;
  readonly pause: Pause;
  /** Stops answering on agent.sock: the new agent serves it once in charge. */
  readonly release: () => Promise<void>;
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly monotonic?: () => number;
  /** What `ota status` says the agent is doing. */
  readonly activity?: (state: 'updating-agent' | 'idle', version?: string) => void;
}

/** How the agent's polling is held while the new agent makes its first poll (one clone). */
export interface Polling {
  stop(): Promise<void>;
  resume(): void;
}

/** lost-charge: the lease names another agent; this one must stop acting (main restarts it). */
export type HandoverOutcome = 'not-needed' | 'handed-over' | 'failed' | 'retry' | 'lost-charge';

/**
 * The agent in charge replacing itself with a release's agent: get its image (built from the
 * tag with Dockerfile.agent), start it next to itself, wait until it is ready and healthy
 * within OTA_AGENT_HANDOVER_TIMEOUT, then give it charge (the lease) and wait to be removed
 * by it. If it never gets ready it is removed, the release is marked failed (its app is not
 * deployed either) and this agent carries on. The app is not touched by any of this.
 */
export class SelfUpdater {
  private readonly fingerprints = new Map<string, string | undefined>();

  constructor(
    private readonly me: SelfAgent,
    private readonly running: {
      readonly inputs: string | undefined;
      readonly origin: InputsOrigin;
    },
    private readonly containers: AgentContainers,
    private readonly images: ImageStore,
    private readonly source: ReleaseSource,
    private readonly state: AgentState,
    private readonly options: SelfUpdateOptions,
    private readonly log: AgentLogger,
  ) {}

  /** For `ota status`: what runs, and where it came from. */
  describe() {
    return { version: this.me.version, container: this.me.name, ...this.running };
  }

  /** Hands over if the target's agent differs from this one; otherwise 'not-needed'. */
  async apply(target: ReleaseTarget, polling: Polling): Promise<HandoverOutcome> {
    if (!this.options.enabled) return 'not-needed';
    const inputs = await this.inputsOf(target);
    if (!agentChanges(this.running.inputs, inputs)) return 'not-needed';
    this.log.info(
      {
        version: target.version,
        inputs,
        running: this.running.inputs,
        origin: this.running.origin,
      },
      'release changes the agent: updating the agent first',
    );
    this.options.activity?.('updating-agent', target.version);
    let image: AppImage;
    try {
      image = await this.obtain(target, inputs as string);
    } catch (err) {
      this.options.activity?.('idle');
      return this.notBuilt(target, err as Error);
    }
    await this.options.pause('built');
    await polling.stop();
    try {
      const outcome = await this.handOver(target, image, polling);
      if (outcome !== 'handed-over') this.options.activity?.('idle');
      return outcome;
    } catch (err) {
      this.options.activity?.('idle');
      polling.resume();
      throw err;
    }
  }

  private async handOver(target: ReleaseTarget, image: AppImage, polling: Polling) {
    const { version, commit } = target;
    const row = await this.state.startDeployment({
      from: this.me.version,
      to: version,
      commit,
      kind: 'agent-update',
    });
    const name = canonicalName(this.me.name);
    let handover: Handover = {
      version,
      commit,
      image: image.id,
      ref: image.ref,
      from: this.me.id,
      fromImage: this.me.image,
      name,
      composeImage: this.me.composeImage,
      candidate: null,
      phase: 'starting',
      row,
    };
    if (!(await this.state.lease.setHandover(this.me.id, handover))) {
      await this.state.finishDeployment(row, 'abandoned', 'this agent is not in charge');
      return 'lost-charge';
    }
    let why: string | undefined;
    try {
      const next = candidateName(name, this.me.name);
      const leftover = await this.containers.idOf(next); // an earlier try's
      if (leftover && leftover !== this.me.id) await this.containers.stopAndRemove(leftover, 10);
      const spec = await this.containers.candidate(
        { ref: image.ref, id: image.id, version, commit },
        next,
      );
      const candidate = await this.containers.createCandidate(spec);
      await this.options.pause('candidate-created');
      handover = { ...handover, candidate };
      await this.state.lease.setHandover(this.me.id, handover);
      await this.containers.start(candidate);
      this.log.info({ version, container: candidate.slice(0, 12) }, 'new agent started');
      await this.options.pause('candidate-started');
      why = await this.waitReady(candidate);
      if (why === undefined) {
        await this.options.release();
        if (await this.state.lease.pass(this.me.id, { ...handover, candidate })) {
          this.log.info({ version, to: candidate.slice(0, 12) }, 'handed over to the new agent');
          await this.options.pause('lease-passed');
          return 'handed-over';
        }
        await this.state.finishDeployment(row, 'abandoned', 'this agent lost charge');
        return 'lost-charge';
      }
    } catch (err) {
      why =
        err instanceof StateNotSharedError
          ? err.message
          : `the engine refused a step: ${(err as Error).message}`;
    }
    await this.giveUp(handover, why);
    polling.resume();
    return 'failed';
  }

  /** Ready: answers on its own socket, state migrated, first poll done; and Docker says healthy. */
  private async waitReady(candidate: string): Promise<string | undefined> {
    const now = this.options.monotonic ?? (() => performance.now());
    const sleep = this.options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    const deadline = now() + this.options.timeoutMs;
    const socket = ownSocketPath(this.options.stateDir, candidate);
    let last = 'it never answered on its socket';
    while (now() < deadline) {
      if ((await this.containers.state(candidate)) === 'missing') return 'its container is gone';
      const self = await askSelf(socket, 3_000).catch(() => undefined);
      const health = await this.containers.health(candidate);
      if (self?.ready && health === 'healthy') return undefined;
      last = !self
        ? 'it never answered on its socket'
        : !self.ready
          ? `its first poll did not succeed${self.firstPoll?.error ? `: ${self.firstPoll.error}` : ''}`
          : `Docker's health check said ${health ?? 'nothing'}`;
      await sleep(this.options.pollMs ?? 2_000);
    }
    return `not ready within ${Math.round(this.options.timeoutMs / 1000)} s: ${last}`;
  }

  private async giveUp(handover: Handover, why: string): Promise<void> {
    const reason = `agent hand-over failed: ${why}`;
    this.log.error(
      { version: handover.version, reason },
      'agent update failed; this agent carries on',
    );
    if (handover.candidate) {
      await this.containers
        .stopAndRemove(handover.candidate, 10)
        .catch((err) => this.log.warn({ err }, 'could not remove the new agent'));
    }
    await this.state.lease.setHandover(this.me.id, null);
    await this.state.update((r) => markFailed(r, handover.version, reason));
    await this.state.finishDeployment(handover.row, 'failed', reason);
  }

  private async inputsOf(target: ReleaseTarget): Promise<string | undefined> {
    if (!this.fingerprints.has(target.commit)) {
      await this.source.fetchTag(target.tag);
      const tree = await this.source.lsTree(target.commit, AGENT_INPUTS);
      this.fingerprints.set(target.commit, fingerprintOf(tree));
    }
    return this.fingerprints.get(target.commit);
  }

  private async obtain(target: ReleaseTarget, inputs: string): Promise<AppImage> {
    const local = await this.images.find(target.version);
    if (local?.commit === target.commit) return local;
    return buildFromTree(
      this.source,
      this.images,
      this.options.stateDir,
      { ...target, source: this.options.repoUrl, inputs },
      `agent-${target.version}`,
      { onProgress: (e) => this.log.info({ version: target.version, ...e }, 'building the agent') },
    );
  }

  /** A build that failed three times marks the release failed; anything else is tried again. */
  private async notBuilt(target: ReleaseTarget, err: Error): Promise<HandoverOutcome> {
    const { version } = target;
    const key = `agent ${version}`;
    const builds =
      err instanceof BuildError ? 1 + ((await this.state.record()).buildFailures[key] ?? 0) : 0;
    const permanent = builds >= 3;
    this.log.error({ version, err, permanent }, 'could not get the new agent image');
    await this.state.update((r) => {
      const counted = builds ? { ...r, buildFailures: { ...r.buildFailures, [key]: builds } } : r;
      return permanent ? markFailed(counted, version, `agent image: ${err.message}`) : counted;
    });
    return permanent ? 'failed' : 'retry';
  }
}

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Deployer, SwitchOutcome } from './deploy/deployer.js';
import { planRetention } from './deploy/plan.js';
import {
  BuildError,
  EngineStepError,
  ImageMismatchError,
  PullError,
  ReleaseSourceError,
} from './errors.js';
import { buildFromTree } from './image/build-from-tree.js';
import type { AppImage, ImageStore, ProgressEvent } from './image/image-store.js';
import { missingImageVerdict } from './image/pull-grace.js';
import type { AgentLogger } from './log.js';
import type { ReleaseSource } from './release/release-source.js';
import type { ReleaseTarget } from './release/release-watcher.js';
import { compareVersions, parseVersion } from './release/version.js';
import type { AgentState } from './state/agent-state.js';
import { markFailed, previousOf } from './state/device-record.js';
import type { StatusBoard } from './status.js';

export interface UpdaterOptions {
  readonly imageSource: 'build' | 'pull';
  readonly keepImages: number;
  readonly repoUrl: string;
  readonly stateDir: string;
  /** Pull mode: how long after a tag appeared a missing image is still waited for (0: not). */
  readonly pullGraceMs?: number;
  /** The monotonic clock ReleaseTarget.firstSeenAt is on; default performance.now. */
  readonly monotonic?: () => number;
}

/** One update end to end: get the image (build or pull), switch, prune old images. */
export class Updater {
  constructor(
    private readonly source: ReleaseSource,
    private readonly images: ImageStore,
    private readonly deployer: Deployer,
    private readonly state: AgentState,
    private readonly status: StatusBoard,
    private readonly options: UpdaterOptions,
    private readonly log: AgentLogger,
  ) {}

  async apply(target: ReleaseTarget): Promise<SwitchOutcome> {
    const { version } = target;
    // The poll chose this target from a snapshot; the record may have changed since (a failure,
    // a pin, a rollback queued before it): decide again from the record, inside the queue.
    const record = await this.state.record();
    const stale = record.pinned
      ? `pinned to ${record.pinned}`
      : record.failed[version] !== undefined
        ? 'marked failed'
        : undefined;
    if (stale) {
      this.log.info({ version, reason: stale }, 'update skipped');
      return { outcome: 'unchanged', version: record.running?.version ?? version };
    }
    this.log.info({ version, tag: target.tag, commit: target.commit }, 'detected');
    let outcome: SwitchOutcome;
    try {
      // A local image is used only if it was made from this tag's commit (a moved tag, or an
      // image left from another repository, must not pass for this release).
      const local = await this.images.find(version);
      const image = local?.commit === target.commit ? local : await this.obtain(target);
      this.status.set('deploying', version);
      outcome = await this.deployer.switchTo({ version, commit: target.commit, image: image.ref });
    } catch (err) {
      if (err instanceof EngineStepError) throw err; // the change stays recorded and is resumed
      return await this.failedBeforeSwitch(target, err as Error);
    } finally {
      this.status.set('idle');
    }
    // Pruning is housekeeping: its failure says nothing about the release.
    await this.prune().catch((err) => this.log.warn({ err }, 'could not prune images'));
    return outcome;
  }

  private async failedBeforeSwitch(target: ReleaseTarget, err: Error): Promise<SwitchOutcome> {
    const { version } = target;
    // Getting the image failed; the running app is untouched. A refused image (wrong
    // revision or architecture, no such tag, bad credentials) or a build that failed three
    // times is marked failed for good; anything else (network, disk full) is tried again
    // at the next poll.
    // A missing image in pull mode is transient for OTA_PULL_GRACE after the tag appeared: CI
    // pushes the image minutes after the tag (see pull-grace.ts).
    const missing =
      err instanceof PullError && err.kind === 'not-found'
        ? missingImageVerdict(
            target.firstSeenAt,
            (this.options.monotonic ?? performance.now.bind(performance))(),
            this.options.pullGraceMs ?? 0,
          )
        : undefined;
    const reason = `${err.message}${missing?.transient === false ? `: ${missing.reason}` : ''}`;
    const builds = err instanceof BuildError ? 1 + (await this.buildFailures(version)) : 0;
    const permanent = missing
      ? !missing.transient
      : err instanceof ImageMismatchError ||
        ((err instanceof PullError || err instanceof ReleaseSourceError) && err.permanent) ||
        builds >= 3;
    this.log.error({ version, err, permanent }, 'update failed before the switch');
    await this.state.update((r) => {
      const counted = builds
        ? { ...r, buildFailures: { ...r.buildFailures, [version]: builds } }
        : r;
      return permanent ? markFailed(counted, version, reason) : counted;
    });
    const id = await this.state.startDeployment({
      from: (await this.state.record()).running?.version ?? null,
      to: version,
      commit: target.commit,
      kind: 'switch',
    });
    await this.state.finishDeployment(id, 'failed', permanent ? reason : `${reason} (will retry)`);
    return { outcome: 'failed', version, reason };
  }

  private async buildFailures(version: string): Promise<number> {
    return (await this.state.record()).buildFailures[version] ?? 0;
  }

  /**
   * Versions whose local images are worth keeping, most wanted first: the ones that ran well,
   * newest first, then local images the record does not know (a lost or new state volume:
   * the engine still holds the earlier versions, which stay rollback targets), highest first.
   */
  private async keptVersions() {
    const record = await this.state.record();
    const images = await this.images.list(); // newest first
    const unknown = images
      .map((i) => i.version)
      .filter((v) => !record.good.includes(v) && record.failed[v] === undefined)
      .sort(byVersionDescending);
    return { record, images, kept: [...record.good, ...unknown] };
  }

  /** What a build the agent was killed in leaves: its context file and its builder stage. */
  async removeLeftovers(): Promise<void> {
    rmSync(join(this.options.stateDir, 'contexts'), { recursive: true, force: true });
    await this.pruneBuildStages();
  }

  private async pruneBuildStages(): Promise<void> {
    await this.images
      .pruneBuildStages()
      .catch((err) => this.log.warn({ err }, 'could not prune builder-stage images'));
  }

  private async obtain(target: ReleaseTarget): Promise<AppImage> {
    const { version } = target;
    const release = { ...target, source: this.options.repoUrl };
    const progress = (e: ProgressEvent) =>
      this.log.info({ version, ...e }, e.phase === 'build' ? 'building' : 'pulling');
    if (this.options.imageSource === 'pull') {
      this.status.set('pulling', version);
      return this.images.pull(release, progress);
    }
    this.status.set('fetching', version);
    this.log.info({ version, tag: target.tag }, 'fetching');
    await this.source.fetchTag(target.tag);
    try {
      return await buildFromTree(
        this.source,
        this.images,
        this.options.stateDir,
        release,
        version,
        {
          archived: () => this.status.set('building', version),
          onProgress: progress,
        },
      );
    } finally {
      await this.pruneBuildStages();
    }
  }

  /** Back to the previous version, or a named kept one. */
  async rollback(version?: string): Promise<SwitchOutcome> {
    const { record, kept } = await this.keptVersions();
    const running = record.running?.version;
    const to = version ?? previousOf(record) ?? highestBelow(kept, running);
    if (!to) throw new Error('no previous version to roll back to');
    this.status.set('rolling-back', to);
    try {
      return await this.deployer.rollbackTo(to);
    } finally {
      this.status.set('idle');
    }
  }

  /** Keeps the last N successful versions' images, never the running or previous one. */
  async prune(): Promise<string[]> {
    const { record, kept, images } = await this.keptVersions();
    const running = record.running?.version;
    const previous = previousOf(record);
    const change = record.change?.to.version;
    const protect = new Set(
      [running, previous, change].filter((v): v is string => v !== undefined),
    );
    const remove = planRetention(
      images.map((i) => i.version),
      kept,
      this.options.keepImages,
      protect,
    );
    for (const version of remove) {
      try {
        await this.images.remove(version);
        this.log.info({ version }, 'pruned');
      } catch (err) {
        this.log.warn({ version, err }, 'could not prune image');
      }
    }
    return remove;
  }
}

const byVersionDescending = (a: string, b: string): number => {
  const [va, vb] = [parseVersion(a), parseVersion(b)];
  return va && vb ? compareVersions(vb, va) : 0;
};

/** With no history to go by: the highest kept version below the running one. */
function highestBelow(kept: readonly string[], running: string | undefined): string | undefined {
  const current = running === undefined ? undefined : parseVersion(running);
  return [...kept].sort(byVersionDescending).find((v) => {
    const parsed = parseVersion(v);
    return v !== running && (!current || !parsed || compareVersions(parsed, current) < 0);
  });
}

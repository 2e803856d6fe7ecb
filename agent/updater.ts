import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Deployer, SwitchOutcome } from './deploy/deployer.js';
import { planRetention } from './deploy/plan.js';
import { BuildError, ImageMismatchError, PullError, ReleaseSourceError } from './errors.js';
import type { AppImage, ImageStore, ProgressEvent } from './image/image-store.js';
import { missingImageVerdict } from './image/pull-grace.js';
import type { AgentLogger } from './log.js';
import type { ReleaseSource } from './release/release-source.js';
import type { ReleaseTarget } from './release/release-watcher.js';
import type { AgentState } from './state/agent-state.js';
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
    this.log.info({ version, tag: target.tag, commit: target.commit }, 'detected');
    try {
      // A local image is used only if it was made from this tag's commit (a moved tag, or an
      // image left from another repository, must not pass for this release).
      const local = await this.images.find(version);
      const image = local?.commit === target.commit ? local : await this.obtain(target);
      this.status.set('deploying', version);
      const outcome = await this.deployer.switchTo({
        version,
        commit: target.commit,
        image: image.ref,
      });
      await this.prune();
      return outcome;
    } catch (err) {
      // Getting the image failed; the running app is untouched. A refused image (wrong
      // revision or architecture, no such tag, bad credentials) or a build that failed three
      // times is marked failed for good; anything else (network, disk full) is tried again
      // at the next poll.
      // A missing image in pull mode is transient for OTA_PULL_GRACE after the tag appeared:
      // CI pushes the image minutes after the tag (issue 10, item 4; see pull-grace.ts).
      const missing =
        err instanceof PullError && err.kind === 'not-found'
          ? missingImageVerdict(
              target.firstSeenAt,
              (this.options.monotonic ?? performance.now.bind(performance))(),
              this.options.pullGraceMs ?? 0,
            )
          : undefined;
      const reason = `${(err as Error).message}${missing?.transient === false ? `: ${missing.reason}` : ''}`;
      const earlier = (await this.state.history(500)).filter(
        (d) => d.to === version && d.outcome === 'failed',
      ).length;
      const permanent = missing
        ? !missing.transient
        : err instanceof ImageMismatchError ||
          ((err instanceof PullError || err instanceof ReleaseSourceError) && err.permanent) ||
          (err instanceof BuildError && earlier >= 2);
      this.log.error({ version, err, permanent }, 'update failed before the switch');
      if (permanent) await this.state.markFailed(version, reason);
      const id = await this.state.startDeployment({
        from: (await this.deployer.running())?.version ?? null,
        to: version,
        commit: target.commit,
        kind: 'switch',
      });
      await this.state.finishDeployment(
        id,
        'failed',
        permanent ? reason : `${reason} (will retry)`,
      );
      return { outcome: 'failed', version, reason };
    } finally {
      this.status.set('idle');
    }
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
    const dir = join(this.options.stateDir, 'contexts');
    mkdirSync(dir, { recursive: true });
    const context = join(dir, `${version}.tar`);
    try {
      await this.source.archive(target.commit, context);
      this.status.set('building', version);
      return await this.images.build(release, context, progress);
    } finally {
      rmSync(context, { force: true });
    }
  }

  /** Back to the previous version, or a named kept one. */
  async rollback(version?: string): Promise<SwitchOutcome> {
    const to = version ?? (await this.deployer.previousVersion());
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
    const images = await this.images.list();
    const history = await this.state.history(500);
    const successful = [
      ...new Set(history.filter((d) => d.outcome === 'succeeded').map((d) => d.to)),
    ];
    const running = (await this.deployer.running())?.version;
    const previous = await this.deployer.previousVersion();
    const protect = new Set([running, previous].filter((v): v is string => v !== undefined));
    const remove = planRetention(
      images.map((i) => i.version),
      successful,
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

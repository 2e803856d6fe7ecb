import { ReleaseSourceError } from '../errors.js';
import type { AgentLogger } from '../log.js';
import {
  admitWithHalts,
  checkHalts,
  type RolloutView,
  rolloutViews,
  versionsToCheck,
} from './halt-check.js';
import type { HaltState } from './halt-criteria.js';
import { KnownTags } from './known-tags.js';
import { PolicyTracker } from './policy-tracker.js';
import { matchesPrefixes, pollPrefixes } from './poll-prefixes.js';
import type { ReleaseSource, RemoteTag } from './release-source.js';
import { downgradeReason, heldAt, type RolloutPolicy } from './rollout-policy.js';
import { type Candidate, onChannel, selectTarget } from './select.js';
import type { TagLedger } from './tag-ledger.js';
import { TagVerifier } from './tag-verifier.js';
import { compareVersions, type Version } from './version.js';
import type { PollResult, ReleaseTarget, WatcherOptions } from './watcher-types.js';

export type { PollResult, ReleaseTarget, RolloutView, WatcherOptions };

/** Decides, at each poll, which released version this device should run. */
export class ReleaseWatcher {
  private lastSweep = Number.NEGATIVE_INFINITY;
  private readonly policies: PolicyTracker;
  private readonly known: KnownTags;
  private readonly verifier: TagVerifier;

  constructor(
    private readonly source: ReleaseSource,
    ledger: TagLedger,
    private readonly options: WatcherOptions,
    private readonly log: AgentLogger,
  ) {
    this.known = new KnownTags(ledger, options, log);
    this.verifier = new TagVerifier(source, options, log);
    this.policies = new PolicyTracker(
      source,
      {
        requireSigned: options.requireSigned,
        allowedSignersFile: options.allowedSignersFile,
        file: options.policyFile,
      },
      log,
    );
  }

  async poll(current: Version | undefined, failed: ReadonlySet<string>): Promise<PollResult> {
    const at = this.options.now();
    const listing = await this.list(current, failed, at);
    if ('error' in listing) {
      const { mode, error } = listing;
      return { at, mode, tagsReceived: 0, target: undefined, excluded: [], error };
    }
    let { mode, tags } = listing;
    const sweep = mode === 'sweep';
    // A changed policy can move devices down (withdrawal, hold): that needs the lower tags too.
    if ((await this.policies.refresh(sweep)) && !sweep) {
      try {
        tags = await this.source.listTags('all');
        this.lastSweep = at;
        mode = 'sweep';
        this.known.forgetDeleted(tags, 'all');
      } catch (err) {
        if (!(err instanceof ReleaseSourceError)) throw err;
        this.log.error({ kind: err.kind, err }, 'release poll failed');
      }
    }
    const known = this.known
      .versionsAbove(current)
      .filter((k) => onChannel(k.version, this.options.channel));

    const policy = this.policies.policy;
    const device = this.options.device;
    const hold = heldAt(policy, device.groups);
    const candidates = this.known.candidates(tags);
    if (mode === 'sweep') await this.prefetchWatched(current, failed);
    else {
      // Known versions above the running one (all of `known`) are still candidates.
      const listed = new Set(candidates.map((c) => c.version.tag));
      for (const k of known) {
        if (!listed.has(k.version.tag)) candidates.push(k);
      }
    }
    // Down only when the policy says so explicitly (see downgradeReason).
    const down = current !== undefined && downgradeReason(policy, device.groups, current.text);
    const halts =
      hold === undefined
        ? await this.checkHalts(policy, candidates, current, failed, Boolean(down))
        : new Map<string, HaltState>();
    const admit = admitWithHalts(policy, device, halts);
    const rollouts = rolloutViews(policy, halts);
    const conflicts = this.known.aliasConflicts();
    for (;;) {
      const refused = new Map<string, string>(conflicts);
      for (const c of candidates) {
        const reason = this.verifier.refusal(c);
        if (reason) refused.set(c.version.text, reason);
      }
      const { target, excluded } = selectTarget(candidates, {
        channel: this.options.channel,
        failed,
        refused,
        admit,
        hold,
      });
      const done = (found: ReleaseTarget | undefined, error?: PollResult['error']): PollResult => ({
        at,
        mode,
        tagsReceived: tags.length,
        target: found,
        excluded,
        error,
        policy: this.policies.commit,
        refusals: [...this.refusals(), ...conflicts.values()],
        ...(rollouts.length > 0 ? { rollouts } : {}),
        ...(policy.actions.length > 0 ? { actions: policy.actions } : {}),
      });
      if (!target || (current && target.version.text === current.text)) return done(undefined);
      if (current && !down && compareVersions(target.version, current) < 0) return done(undefined);
      const checked = await this.verifier.check(target);
      if (checked.ok) {
        return done({
          version: target.version.text,
          tag: target.version.tag,
          commit: target.commit,
          signer: checked.signer,
          firstSeenAt: this.known.firstSeenAt(target.version.tag),
        });
      }
      if (checked.error) return done(undefined, checked.error);
    }
  }

  /**
   * Reads the central database's outcomes of the releases with halt criteria this device could
   * start now, before selecting (a group hold is an explicit order and is not halted).
   */
  private checkHalts(
    policy: RolloutPolicy,
    candidates: readonly Candidate[],
    current: Version | undefined,
    failed: ReadonlySet<string>,
    movingDown: boolean,
  ): Promise<Map<string, HaltState>> {
    const { device, channel } = this.options;
    const versions = versionsToCheck(policy, candidates, {
      ...device,
      failed,
      current,
      movingDown,
      onChannel: (v) => onChannel(v, channel),
    });
    return checkHalts(
      this.options.rollouts,
      policy,
      versions,
      { deviceId: device.id, now: new Date(this.options.now()) },
      this.log,
    );
  }

  /**
   * Lists the tags a poll needs. Polls look above the floor: the highest version of this
   * channel that still exists and was not refused (seen in an earlier poll, deployed or not,
   * failed or not), so a poll only has to find what is new; without one, everything is listed.
   * A cheap poll also names the floor's tag and the known candidates above the running
   * version, so it sees them deleted; when the floor turns out deleted, it lists again from
   * the next one, so a mistaken tag cannot blind the device until the sweep.
   */
  private async list(
    current: Version | undefined,
    failed: ReadonlySet<string>,
    at: number,
  ): Promise<
    | { mode: PollResult['mode']; tags: RemoteTag[] }
    | { mode: PollResult['mode']; error: ReleaseSourceError }
  > {
    for (let attempt = 0; ; attempt++) {
      const { floor, watched } = this.watchList(current, failed);
      const sweep = floor === undefined || at - this.lastSweep >= this.options.sweepIntervalMs;
      const mode: PollResult['mode'] = sweep ? 'sweep' : 'prefixes';
      const above = floor && pollPrefixes(floor);
      const prefixes =
        sweep || !above ? 'all' : [...above, ...watched.filter((t) => !matchesPrefixes(t, above))];
      let tags: RemoteTag[];
      try {
        tags = await this.source.listTags(prefixes);
      } catch (err) {
        if (!(err instanceof ReleaseSourceError)) throw err;
        this.log.error({ kind: err.kind, url: err.url, err }, 'release poll failed');
        return { mode, error: err };
      }
      if (sweep) this.lastSweep = at;
      const gone = this.known.forgetDeleted(tags, prefixes);
      if (attempt > 0 || !floor || !gone.has(floor.tag)) return { mode, tags };
    }
  }

  /**
   * After a sweep (which lists without fetching), makes the tags cheap polls will name local
   * in one shallow fetch, so naming them later costs no request.
   */
  private async prefetchWatched(current: Version | undefined, failed: ReadonlySet<string>) {
    try {
      await this.source.prefetchTags(this.watchList(current, failed).watched);
    } catch (err) {
      if (!(err instanceof ReleaseSourceError)) throw err;
      this.log.warn({ kind: err.kind }, 'could not fetch known tags; the next poll tries again');
    }
  }

  private watchList(current: Version | undefined, failed: ReadonlySet<string>) {
    return this.known.watchList(current, failed, (c) => this.verifier.refusal(c) !== undefined);
  }

  private refusals(): string[] {
    return this.policies.refusal ? [this.policies.refusal] : [];
  }
}

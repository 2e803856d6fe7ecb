import { ReleaseSourceError, type SourceFailure } from '../errors.js';
import type { AgentLogger } from '../log.js';
import { aliasConflicts } from './alias-conflicts.js';
import { PolicyTracker } from './policy-tracker.js';
import { matchesPrefixes, pollPrefixes } from './poll-prefixes.js';
import type { ReleaseSource, RemoteTag, SignatureCheck } from './release-source.js';
import { admits, heldAt } from './rollout-policy.js';
import { type Candidate, type Exclusion, onChannel, selectTarget } from './select.js';
import type { TagLedger } from './tag-ledger.js';
import { compareVersions, parseVersion, type Version } from './version.js';

export interface WatcherOptions {
  readonly channel: string;
  readonly requireSigned: boolean;
  readonly allowedSignersFile: string | undefined;
  /** Follow a tag that moved to another commit instead of refusing it. */
  readonly acceptMovedTags: boolean;
  /** How often a poll lists every tag instead of only the prefixes above the current one. */
  readonly sweepIntervalMs: number;
  readonly now: () => number;
  /** This device, for the rollout policy's percentages, groups and holds. */
  readonly device: { readonly id: string; readonly groups: readonly string[] };
  /** Keeps the policy in force across restarts (state volume); without it, memory only. */
  readonly policyFile?: string | undefined;
}

export interface ReleaseTarget {
  readonly version: string;
  readonly tag: string;
  readonly commit: string;
  readonly signer: string | undefined;
}

export interface PollResult {
  readonly at: number;
  readonly mode: 'prefixes' | 'sweep';
  readonly tagsReceived: number;
  /** A version above the current one that this device should run, if any. */
  readonly target: ReleaseTarget | undefined;
  readonly excluded: readonly Exclusion[];
  readonly error: { readonly kind: SourceFailure; readonly message: string } | undefined;
  /** The rollout policy in force (its commit), if the repository has one. */
  readonly policy?: string | undefined;
  /** Standing refusals that keep the device where it is (a refused policy), for `ota status`. */
  readonly refusals?: readonly string[];
}

const shown = (name: string) => (name.length > 80 ? `${name.slice(0, 80)}...` : name);

/** Decides, at each poll, which released version this device should run. */
export class ReleaseWatcher {
  private lastSweep = Number.NEGATIVE_INFINITY;
  private readonly policies: PolicyTracker;
  /** tag@commit pairs whose signature verified, with the signer, so each is checked once. */
  private readonly verified = new Map<string, string>();
  /** Tag names already reported as not-a-version, so each gets one log line, not one per poll. */
  private readonly reportedInvalid = new Set<string>();
  /** Alias conflicts already reported, by their reason. */
  private readonly aliasReported = new Set<string>();
  /** tag@commit pairs of moved tags already reported. */
  private readonly movedReported = new Set<string>();
  /** tag@commit pairs refused for their signature, so each is checked and logged once. */
  private readonly refused = new Map<string, string>();

  constructor(
    private readonly source: ReleaseSource,
    private readonly ledger: TagLedger,
    private readonly options: WatcherOptions,
    private readonly log: AgentLogger,
  ) {
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
        this.forgetDeleted(tags, 'all', at);
      } catch (err) {
        if (!(err instanceof ReleaseSourceError)) throw err;
        this.log.error({ kind: err.kind, err }, 'release poll failed');
      }
    }
    const known = this.knownVersions().filter((k) => onChannel(k.version, this.options.channel));

    const policy = this.policies.policy;
    const device = this.options.device;
    const admit = (version: string) => admits(policy, device, version);
    const hold = heldAt(policy, device.groups);
    const runningAllowed = !current || admit(current.text).allowed;
    const candidates = this.candidates(tags);
    if (mode === 'sweep') await this.prefetchWatched(current, failed);
    else {
      // Known versions between the running one and the base are still candidates.
      const listed = new Set(candidates.map((c) => c.version.tag));
      for (const k of known) {
        if (!listed.has(k.version.tag) && (!current || compareVersions(k.version, current) > 0)) {
          candidates.push(k);
        }
      }
    }
    const conflicts = this.aliasConflicts();
    for (;;) {
      const refused = new Map<string, string>(conflicts);
      for (const c of candidates) {
        const reason = this.refused.get(keyOf(c));
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
      });
      // Down only when the policy says so: the running version was withdrawn, or is no longer
      // allowed here, or a group hold names another version.
      const down = hold !== undefined || !runningAllowed;
      if (!target || (current && target.version.text === current.text)) return done(undefined);
      if (current && !down && compareVersions(target.version, current) < 0) return done(undefined);
      const checked = await this.checkSignature(target);
      if (checked.ok) {
        return done({
          version: target.version.text,
          tag: target.version.tag,
          commit: target.commit,
          signer: checked.signer,
        });
      }
      if (checked.error) return done(undefined, checked.error);
    }
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
      const gone = this.forgetDeleted(tags, prefixes, at);
      if (attempt > 0 || !floor || !gone.has(floor.tag)) return { mode, tags };
    }
  }

  /**
   * The floor of cheap polls (the running version or the highest known version that still
   * exists and was not refused) and the known tags a cheap poll names exactly, to see them
   * deleted: the floor's own and those of candidates above the running version.
   */
  private watchList(current: Version | undefined, failed: ReadonlySet<string>) {
    const running = current && this.asTagged(current);
    const known = this.floorVersions();
    let floor = running;
    for (const k of known) if (!floor || compareVersions(k.version, floor) > 0) floor = k.version;
    const watched = known
      .filter((k) => !current || compareVersions(k.version, current) > 0)
      .filter((k) => k.version === floor || !failed.has(k.version.text))
      .map((k) => k.version.tag);
    return { floor, watched };
  }

  /**
   * Marks ledger tags the listing covers but no longer holds as deleted: they stop being
   * candidates and stop setting the poll floor. The running version's tag may be marked too;
   * that changes nothing for it: it keeps running, and polls start from it anyway. Returns
   * the names marked.
   */
  private forgetDeleted(
    tags: readonly RemoteTag[],
    prefixes: readonly string[] | 'all',
    at: number,
  ): Set<string> {
    const listed = new Set(tags.map((t) => t.name));
    const gone = new Set<string>();
    for (const [name, entry] of this.ledger.entries()) {
      if (entry.deletedAt || listed.has(name)) continue;
      if (prefixes !== 'all' && !matchesPrefixes(name, prefixes)) continue;
      gone.add(name);
      this.log.info({ tag: name }, 'tag deleted from the repository; no longer a candidate');
    }
    this.ledger.markDeleted([...gone], new Date(at));
    return gone;
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

  /** Known versions of this channel that still exist and were not refused: the poll floor. */
  private floorVersions(): Candidate[] {
    const conflicts = this.aliasConflicts();
    return this.knownVersions().filter(
      (k) =>
        onChannel(k.version, this.options.channel) &&
        !this.refused.has(keyOf(k)) &&
        !conflicts.has(k.version.text),
    );
  }

  /**
   * Versions whose tags name different commits (each at the commit the ledger trusts for
   * it), with the reason; each conflict is logged once.
   */
  private aliasConflicts(): Map<string, string> {
    const conflicts = new Map<string, string>();
    for (const { version, tags, commits, reason } of aliasConflicts(
      this.knownVersions(),
    ).values()) {
      conflicts.set(version, reason);
      if (this.aliasReported.has(reason)) continue;
      this.aliasReported.add(reason);
      this.log.error(
        { version, tags, commits },
        'ALIAS CONFLICT: tags of one version point to different commits; refusing the version',
      );
    }
    return conflicts;
  }

  private refusals(): string[] {
    return this.policies.refusal ? [this.policies.refusal] : [];
  }

  /**
   * Every release tag seen before and not deleted since, at the commit first seen (or
   * followed, if moved tags are).
   */
  private knownVersions(): Candidate[] {
    const out: Candidate[] = [];
    for (const [tag, entry] of this.ledger.entries()) {
      const version = entry.deletedAt ? undefined : parseVersion(tag);
      if (version) out.push({ version, commit: entry.commit, object: entry.object });
    }
    return out;
  }

  /**
   * The running version as the repository tags it ("v1.4.2" or "1.4.2"): the version label on
   * a container carries no tag, and poll prefixes must use the repository's spelling.
   */
  private asTagged(version: Version): Version {
    for (const name of [`v${version.text}`, version.text]) {
      if (this.ledger.get(name)) return parseVersion(name) ?? version;
    }
    return parseVersion(`v${version.text}`) ?? version;
  }

  /**
   * Valid versions among the tags. Invalid names get one log line each. A tag that moved to
   * another commit is reported loudly and the version stays at the commit first seen (unless
   * OTA_ACCEPT_MOVED_TAGS): the new commit is never deployed silently.
   */
  private candidates(tags: readonly RemoteTag[]): Candidate[] {
    const out: Candidate[] = [];
    const firstSeen: RemoteTag[] = [];
    for (const tag of tags) {
      const version = parseVersion(tag.name);
      if (!version) {
        if (!this.reportedInvalid.has(tag.name)) {
          this.reportedInvalid.add(tag.name);
          this.log.info(
            { tag: shown(tag.name), length: tag.name.length },
            'ignoring tag that is not a version',
          );
        }
        continue;
      }
      const known = this.ledger.get(tag.name);
      // New, or back after a deletion at the commit first seen (recording clears the mark).
      if (!known || (known.deletedAt && known.commit === tag.commit)) firstSeen.push(tag);
      if (!known || known.commit === tag.commit) {
        out.push({ version, commit: tag.commit, object: tag.object });
        continue;
      }
      if (this.options.acceptMovedTags) {
        this.log.warn(
          { tag: tag.name, from: known.commit, to: tag.commit },
          'tag moved; following it (OTA_ACCEPT_MOVED_TAGS)',
        );
        firstSeen.push(tag);
        out.push({ version, commit: tag.commit, object: tag.object });
        continue;
      }
      const key = `${tag.name}@${tag.commit}`;
      if (!this.movedReported.has(key)) {
        this.movedReported.add(key);
        this.log.error(
          { tag: tag.name, firstCommit: known.commit, nowCommit: tag.commit },
          'TAG MOVED: the same version now points to another commit; keeping the first one',
        );
      }
      // The first commit's tag object, to verify; a ledger older than that field has none.
      out.push({ version, commit: known.commit, object: known.object });
    }
    this.ledger.record(firstSeen, new Date(this.options.now()));
    return out;
  }

  private async checkSignature(
    target: Candidate,
  ): Promise<
    | { ok: true; signer: string | undefined }
    | { ok: false; error?: { kind: SourceFailure; message: string } }
  > {
    if (!this.options.requireSigned) return { ok: true, signer: undefined };
    const { tag } = target.version;
    const key = keyOf(target);
    const signer = this.verified.get(key);
    if (signer) return { ok: true, signer };
    let result: SignatureCheck;
    if (!target.object) {
      result = { ok: false, reason: 'the tag object first seen is not known: cannot verify it' };
    } else {
      try {
        result = await this.source.verifyTag(
          tag,
          target.object,
          this.options.allowedSignersFile ?? '',
        );
      } catch (err) {
        if (!(err instanceof ReleaseSourceError)) throw err;
        this.log.error({ kind: err.kind, tag, err }, 'could not fetch tag to verify it');
        return { ok: false, error: err };
      }
    }
    // The commit built or pulled must be the one the verified object points at.
    if (result.ok && result.commit !== target.commit) {
      result = {
        ok: false,
        reason: `the signed tag points to ${result.commit.slice(0, 12)}, not ${target.commit.slice(0, 12)}`,
      };
    }
    if (result.ok) {
      this.verified.set(key, result.signer);
      this.log.info({ tag, signer: result.signer }, 'tag signature verified');
      return { ok: true, signer: result.signer };
    }
    this.refused.set(key, result.reason);
    this.log.error({ tag, reason: result.reason }, 'tag refused: signature required');
    return { ok: false };
  }
}

/** A candidate as checked: its tag name and the object it names (the commit if none known). */
const keyOf = (c: Candidate) => `${c.version.tag}@${c.object ?? c.commit}`;

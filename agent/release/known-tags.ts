import type { AgentLogger } from '../log.js';
import { type AliasConflict, aliasConflicts } from './alias-conflicts.js';
import { matchesPrefixes } from './poll-prefixes.js';
import type { RemoteTag } from './release-source.js';
import { type Candidate, onChannel } from './select.js';
import type { TagLedger } from './tag-ledger.js';
import { compareVersions, parseVersion, type Version } from './version.js';

/**
 * At most this many candidates above the running version are named in each cheap poll (the
 * highest, floor first): a device with nothing running yet, or held far below the newest
 * release, would otherwise name every known tag in every poll (10,000 tags: minutes of git
 * before its first build). A deletion among the lower ones is seen at the next sweep.
 */
export const WATCH_LIMIT = 20;

const shown = (name: string) => (name.length > 80 ? `${name.slice(0, 80)}...` : name);

/**
 * The release tags this device knows (the ledger on the state volume) and what polls make of
 * them: candidates from a listing, tags deleted upstream, aliases that disagree, and the
 * floor that cheap polls start from. Each oddity is logged once, not at every poll.
 */
export class KnownTags {
  private readonly reportedInvalid = new Set<string>();
  private readonly reportedMoved = new Set<string>();
  private readonly reportedAliases = new Set<string>();
  /**
   * When tags first seen in this run were seen, on the monotonic clock: one entry per poll that
   * recorded any, keyed by the wall-clock time the ledger holds for them (every tag a poll
   * records gets the same one). Per batch, not per tag: a first start against 10,000 tags would
   * otherwise keep a 10,000-entry map for the agent's lifetime.
   */
  private readonly seenInRun = new Map<number, number>();
  private readonly monotonic: () => number;
  /**
   * The known versions above the running one, kept until the ledger or the running version
   * changes: with 10,000 tags, parsing them at every poll (several times) was most of what a
   * poll allocated, and keeping every one parsed cost 1.5 MB for the agent's life, though a
   * poll only ever looks above the running version (the highest of them sets the floor).
   */
  private above:
    | { changes: number; current: string | undefined; versions: Candidate[] }
    | undefined;
  /** Versions whose tags disagree, over every known tag, kept until the ledger changes. */
  private aliases: { changes: number; conflicts: Map<string, AliasConflict> } | undefined;

  constructor(
    private readonly ledger: TagLedger,
    private readonly options: {
      readonly channel: string;
      readonly acceptMovedTags: boolean;
      readonly now: () => number;
      readonly monotonic?: (() => number) | undefined;
    },
    private readonly log: AgentLogger,
  ) {
    this.monotonic = options.monotonic ?? performance.now.bind(performance);
  }

  /**
   * When the tag was first seen, on the monotonic clock. For a tag first seen in an earlier
   * run, the wall-clock time since (from the ledger) is carried over, never less than zero.
   */
  firstSeenAt(tag: string): number | undefined {
    const recorded = this.ledger.get(tag)?.firstSeen;
    if (recorded === undefined || Number.isNaN(recorded)) return undefined;
    const inRun = this.seenInRun.get(recorded);
    if (inRun !== undefined) return inRun;
    return this.monotonic() - Math.max(0, this.options.now() - recorded);
  }

  /**
   * The release tags seen before and not deleted since whose version is above `current` (all,
   * with nothing running), at the commit first seen (or followed, if moved tags are).
   */
  versionsAbove(current: Version | undefined): readonly Candidate[] {
    const changes = this.ledger.changes;
    const key = current?.text;
    if (this.above?.changes === changes && this.above.current === key) return this.above.versions;
    const versions = this.parse((v) => !current || compareVersions(v, current) > 0);
    this.above = { changes, current: key, versions };
    return versions;
  }

  private parse(keep: (version: Version) => boolean): Candidate[] {
    const out: Candidate[] = [];
    for (const [tag, entry] of this.ledger.entries()) {
      if (entry.deletedAt !== undefined) continue;
      const version = parseVersion(tag);
      if (version && keep(version))
        out.push({ version, commit: entry.commit, object: entry.object });
    }
    return out;
  }

  /**
   * The floor of cheap polls (the running version or the highest known version of the
   * channel that still exists and was not refused) and the known tags a cheap poll names
   * exactly, to see them deleted: the floor's own and those of candidates above the running
   * version that did not fail here, the highest WATCH_LIMIT of them.
   */
  watchList(
    current: Version | undefined,
    failed: ReadonlySet<string>,
    refused: (c: Candidate) => boolean,
  ): { floor: Version | undefined; watched: string[] } {
    const conflicts = this.aliasConflicts();
    const known = this.versionsAbove(current).filter(
      (k) =>
        onChannel(k.version, this.options.channel) && !refused(k) && !conflicts.has(k.version.text),
    );
    let floor = current && this.asTagged(current);
    for (const k of known) if (!floor || compareVersions(k.version, floor) > 0) floor = k.version;
    const watched = known
      .filter((k) => k.version === floor || !failed.has(k.version.text))
      .sort((a, b) => compareVersions(b.version, a.version))
      .slice(0, WATCH_LIMIT)
      .map((k) => k.version.tag);
    return { floor, watched };
  }

  /**
   * Marks ledger tags the listing covers but no longer holds as deleted: they stop being
   * candidates and stop setting the poll floor. The running version's tag may be marked too;
   * that changes nothing for it: it keeps running, and polls start from it anyway. Returns
   * the names marked.
   */
  forgetDeleted(tags: readonly RemoteTag[], prefixes: readonly string[] | 'all'): Set<string> {
    const listed = new Set(tags.map((t) => t.name));
    const gone = new Set<string>();
    for (const [name, entry] of this.ledger.entries()) {
      if (entry.deletedAt !== undefined || listed.has(name)) continue;
      if (prefixes !== 'all' && !matchesPrefixes(name, prefixes)) continue;
      gone.add(name);
      this.log.info({ tag: name }, 'tag deleted from the repository; no longer a candidate');
    }
    this.ledger.markDeleted([...gone], new Date(this.options.now()));
    return gone;
  }

  /**
   * Versions whose tags name different commits (each at the commit the ledger trusts for
   * it), with the reason; each conflict is logged once.
   */
  aliasConflicts(): Map<string, string> {
    const conflicts = new Map<string, string>();
    const changes = this.ledger.changes;
    if (this.aliases?.changes !== changes) {
      this.aliases = { changes, conflicts: aliasConflicts(this.parse(() => true)) };
    }
    for (const { version, tags, commits, reason } of this.aliases.conflicts.values()) {
      conflicts.set(version, reason);
      if (this.reportedAliases.has(reason)) continue;
      this.reportedAliases.add(reason);
      this.log.error(
        { version, tags, commits },
        'ALIAS CONFLICT: tags of one version point to different commits; refusing the version',
      );
    }
    return conflicts;
  }

  /**
   * The running version as the repository tags it ("v1.4.2" or "1.4.2"): the version label on
   * a container carries no tag, and poll prefixes must use the repository's spelling.
   */
  asTagged(version: Version): Version {
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
  candidates(tags: readonly RemoteTag[]): Candidate[] {
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
      const back = known?.deletedAt !== undefined && known.commit === tag.commit;
      if (!known || back) firstSeen.push(tag);
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
      if (!this.reportedMoved.has(key)) {
        this.reportedMoved.add(key);
        this.log.error(
          { tag: tag.name, firstCommit: known.commit, nowCommit: tag.commit },
          'TAG MOVED: the same version now points to another commit; keeping the first one',
        );
      }
      // The first commit's tag object, to verify; a ledger older than that field has none.
      out.push({ version, commit: known.commit, object: known.object });
    }
    // A tag back at the commit first seen keeps its first sighting (and its wall-clock time).
    // A poll in the same millisecond as an earlier one of this run, or one the wall clock
    // stepped back onto, records its tags a millisecond later, so each keeps its own sighting.
    let at = new Date(this.options.now()).getTime();
    if (firstSeen.some((tag) => this.ledger.get(tag.name)?.commit !== tag.commit)) {
      while (Number.isFinite(at) && this.seenInRun.has(at)) at++;
      this.seenInRun.set(at, this.monotonic());
    }
    this.ledger.record(firstSeen, new Date(at));
    return out;
  }
}

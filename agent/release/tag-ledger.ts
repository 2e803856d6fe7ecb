import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A tag as first seen. Times are epoch milliseconds. */
export interface LedgerEntry {
  readonly commit: string;
  /** The tag object first seen (absent in ledgers written before it was kept). */
  readonly object: string | undefined;
  readonly firstSeen: number;
  /** When a poll saw the tag gone from the repository; cleared if it comes back. */
  readonly deletedAt: number | undefined;
}

/** tags.json, as every agent version reads and writes it: ISO times, optional fields absent. */
interface FileEntry {
  readonly commit: string;
  readonly object?: string;
  readonly firstSeen: string;
  readonly deletedAt?: string;
}

/**
 * One entry in memory, small: a device may know 10,000 tags for the agent's lifetime. Every
 * entry has the same four fields (one object shape), times are numbers rather than ISO text,
 * and a lightweight tag's object is the very string of its commit, not a second copy.
 */
function entry(
  commit: string,
  object: string | undefined,
  firstSeen: number,
  deletedAt?: number,
): LedgerEntry {
  return { commit, object: object === commit ? commit : object, firstSeen, deletedAt };
}

/**
 * A copy of a tag's name or id that holds only its own characters. Names and ids taken from a
 * git listing are slices of the whole listing's text, and V8 keeps that text (60 bytes per
 * tag) alive for as long as any slice of it lives: the ledger keeps them for the agent's life.
 * Lossless: a text that would not survive the round trip is kept as it is.
 */
function detached(text: string): string {
  const copy = Buffer.from(text, 'utf8').toString('utf8');
  return copy === text ? copy : text;
}

/**
 * An entry as read, or undefined for one no agent could have written (then the tag is seen
 * afresh). Times that do not parse stay unknown (NaN) and are written back as empty text; a
 * deletion mark means what it meant to older agents, which tested it for truth.
 */
function fromFile(e: unknown): LedgerEntry | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { commit, object, firstSeen, deletedAt } = e as Record<string, unknown>;
  if (typeof commit !== 'string') return undefined;
  const time = (t: unknown) => (typeof t === 'string' ? Date.parse(t) : Number.NaN);
  return entry(
    commit,
    typeof object === 'string' ? object : undefined,
    time(firstSeen),
    deletedAt ? time(deletedAt) : undefined,
  );
}

const isoOrEmpty = (t: number) => (Number.isFinite(t) ? new Date(t).toISOString() : '');

function toFile(e: LedgerEntry): FileEntry {
  return {
    commit: e.commit,
    ...(e.object !== undefined && { object: e.object }),
    firstSeen: isoOrEmpty(e.firstSeen),
    // A mark whose time was unreadable stays a mark.
    ...(e.deletedAt !== undefined && { deletedAt: isoOrEmpty(e.deletedAt) || 'unknown' }),
  };
}

/**
 * The commit each release tag pointed to when this device first saw it, kept on the state
 * volume. A tag that later points elsewhere has moved; the first commit is the one trusted.
 */
export class TagLedger {
  private readonly byTag = new Map<string, LedgerEntry>();
  /** Counts changes, so readers can keep what they derive from the entries until the next. */
  private revision = 0;

  constructor(private readonly file: string) {
    let stored: unknown = {};
    try {
      stored = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      // None yet (first start) or unreadable: every tag is seen afresh.
    }
    if (typeof stored !== 'object' || stored === null) return;
    for (const [tag, e] of Object.entries(stored)) {
      const known = fromFile(e);
      if (known) this.byTag.set(tag, known);
    }
  }

  get(tag: string): LedgerEntry | undefined {
    return this.byTag.get(tag);
  }

  get changes(): number {
    return this.revision;
  }

  entries(): IterableIterator<[string, LedgerEntry]> {
    return this.byTag.entries();
  }

  /** Records tags seen for the first time (and, when accepted, moves); writes once. */
  record(tags: readonly { name: string; commit: string; object?: string }[], now: Date): void {
    let changed = false;
    for (const { name, commit, object } of tags) {
      const known = this.get(name);
      if (known?.commit === commit) {
        if (known.deletedAt === undefined) continue;
        // Back at the commit first seen: the first sighting still counts.
        this.byTag.set(name, entry(known.commit, known.object, known.firstSeen));
      } else {
        const id = detached(commit);
        const tagObject = object === commit ? id : object && detached(object);
        this.byTag.set(known ? name : detached(name), entry(id, tagObject, now.getTime()));
      }
      changed = true;
    }
    if (changed) this.write();
  }

  /**
   * Marks tags deleted from the repository. They are kept, not forgotten: a tag pushed again
   * at another commit is still a moved tag.
   */
  markDeleted(names: readonly string[], now: Date): void {
    const marked = names.filter((name) => {
      const known = this.get(name);
      if (!known || known.deletedAt !== undefined) return false;
      this.byTag.set(name, entry(known.commit, known.object, known.firstSeen, now.getTime()));
      return true;
    });
    if (marked.length > 0) this.write();
  }

  private write(): void {
    this.revision++;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    const out: Record<string, FileEntry> = {};
    for (const [tag, e] of this.byTag) out[tag] = toFile(e);
    writeFileSync(tmp, JSON.stringify(out));
    renameSync(tmp, this.file);
  }
}

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

interface Entry {
  readonly commit: string;
  /** The tag object first seen (absent in ledgers written before it was kept). */
  readonly object?: string;
  readonly firstSeen: string;
  /** When a poll saw the tag gone from the repository; cleared if it comes back. */
  readonly deletedAt?: string;
}

/**
 * The commit each release tag pointed to when this device first saw it, kept on the state
 * volume. A tag that later points elsewhere has moved; the first commit is the one trusted.
 */
export class TagLedger {
  private byTag: Record<string, Entry>;
  /** Counts changes, so readers can keep what they derive from the entries until the next. */
  private revision = 0;

  constructor(private readonly file: string) {
    try {
      this.byTag = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Entry>;
    } catch {
      this.byTag = {};
    }
  }

  get(tag: string): Entry | undefined {
    return Object.hasOwn(this.byTag, tag) ? this.byTag[tag] : undefined;
  }

  get changes(): number {
    return this.revision;
  }

  entries(): [string, Entry][] {
    return Object.entries(this.byTag);
  }

  /** Records tags seen for the first time (and, when accepted, moves); writes once. */
  record(tags: readonly { name: string; commit: string; object?: string }[], now: Date): void {
    let changed = false;
    for (const { name, commit, object } of tags) {
      const known = this.get(name);
      if (known?.commit === commit) {
        if (!known.deletedAt) continue;
        // Back at the commit first seen: the first sighting still counts.
        const { deletedAt: _, ...rest } = known;
        this.byTag[name] = rest;
      } else this.byTag[name] = { commit, object, firstSeen: now.toISOString() };
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
      if (!known || known.deletedAt) return false;
      this.byTag[name] = { ...known, deletedAt: now.toISOString() };
      return true;
    });
    if (marked.length > 0) this.write();
  }

  private write(): void {
    this.revision++;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.byTag));
    renameSync(tmp, this.file);
  }
}

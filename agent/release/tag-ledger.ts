import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

interface Entry {
  readonly commit: string;
  /** The tag object first seen (absent in ledgers written before it was kept). */
  readonly object?: string;
  readonly firstSeen: string;
}

/**
 * The commit each release tag pointed to when this device first saw it, kept on the state
 * volume. A tag that later points elsewhere has moved; the first commit is the one trusted.
 */
export class TagLedger {
  private byTag: Record<string, Entry>;

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

  entries(): [string, Entry][] {
    return Object.entries(this.byTag);
  }

  /** Records tags seen for the first time (and, when accepted, moves); writes once. */
  record(tags: readonly { name: string; commit: string; object?: string }[], now: Date): void {
    let changed = false;
    for (const { name, commit, object } of tags) {
      if (this.get(name)?.commit === commit) continue;
      this.byTag[name] = { commit, object, firstSeen: now.toISOString() };
      changed = true;
    }
    if (!changed) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.byTag));
    renameSync(tmp, this.file);
  }
}

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ReleaseSourceError } from '../errors.js';
import type { AgentLogger } from '../log.js';
import type { ReleaseSource } from './release-source.js';
import { EMPTY_POLICY, PolicyError, parsePolicy, type RolloutPolicy } from './rollout-policy.js';

export interface PolicyTrackerOptions {
  readonly requireSigned: boolean;
  readonly allowedSignersFile: string | undefined;
  /** Where the policy in force is kept across restarts (commit and text); none: memory only. */
  readonly file?: string | undefined;
}

interface Kept {
  readonly commit: string;
  readonly text: string;
}

const short = (commit: string | undefined) => commit?.slice(0, 12) ?? 'none';

/**
 * The rollout policy in force, from the `ota-policy` branch. When signing is required it only
 * moves forwards, as TUF's snapshot role guards against rollback: a new policy commit must be
 * signed, hold ota-policy.json and descend from the one in force (git history is the sequence
 * number), and a branch that disappears after a policy was in force changes nothing. A
 * refused policy leaves one log line and a standing `refusal`; the last good one stays.
 */
export class PolicyTracker {
  policy: RolloutPolicy = EMPTY_POLICY;
  /** The commit of the policy in force. */
  commit: string | undefined;
  /** Why the branch's current commit is not the policy in force, while it is not. */
  refusal: string | undefined;
  private seen: string | undefined | null = null;

  constructor(
    private readonly source: ReleaseSource,
    private readonly options: PolicyTrackerOptions,
    private readonly log: AgentLogger,
  ) {
    const kept = this.load();
    if (kept) {
      try {
        this.policy = parsePolicy(kept.text);
        this.commit = kept.commit;
      } catch {
        // A damaged file: start from none, as before the file existed.
      }
    }
  }

  /** Reads the policy when the branch's commit changed; returns whether the one in force changed. */
  async refresh(fetch: boolean): Promise<boolean> {
    if (fetch) {
      try {
        await this.source.fetchPolicy();
      } catch (err) {
        if (!(err instanceof ReleaseSourceError)) throw err;
        this.log.warn(
          { kind: err.kind },
          'could not fetch the rollout policy; keeping the last one',
        );
        return false;
      }
    }
    const commit = await this.source.policyCommit();
    if (commit === this.seen) return false;
    this.seen = commit;
    if (commit === this.commit) {
      this.refusal = undefined; // back to the policy in force
      return false;
    }
    if (!commit) {
      if (this.options.requireSigned) {
        return this.refuse('the ota-policy branch is gone', { inForce: this.commit });
      }
      this.log.info(
        'rollout policy removed (no ota-policy branch): every release goes to every device',
      );
      return this.accept(undefined, undefined, EMPTY_POLICY);
    }
    if (this.options.requireSigned) {
      const check = await this.source.verifyPolicy(commit, this.options.allowedSignersFile ?? '');
      if (!check.ok) return this.refuse('signature required', { commit, reason: check.reason });
      if (this.commit && !(await this.source.descendsFrom(commit, this.commit))) {
        return this.refuse('it does not descend from the policy in force (older or rewritten)', {
          commit,
          inForce: this.commit,
        });
      }
    }
    const text = await this.source.policyText(commit);
    if (text === undefined && this.options.requireSigned) {
      return this.refuse('the commit holds no ota-policy.json', { commit });
    }
    let policy: RolloutPolicy;
    try {
      policy = parsePolicy(text ?? '{}');
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      this.log.error(
        { commit, reason: err.message },
        'policy ignored: it does not parse; keeping the last good one',
      );
      this.refusal = `policy ${short(commit)} ignored: ${err.message}; keeping ${short(this.commit)}`;
      return false;
    }
    this.log.info({ commit }, 'rollout policy updated');
    return this.accept(commit, text ?? '{}', policy);
  }

  private refuse(why: string, fields: Record<string, unknown>): false {
    this.log.error(fields, `policy refused: ${why}; keeping the last good one`);
    const reason = typeof fields.reason === 'string' ? ` (${fields.reason})` : '';
    const commit = typeof fields.commit === 'string' ? ` ${short(fields.commit)}` : '';
    this.refusal = `policy${commit} refused: ${why}${reason}; keeping ${short(this.commit)}`;
    return false;
  }

  private accept(commit: string | undefined, text: string | undefined, policy: RolloutPolicy) {
    this.policy = policy;
    this.commit = commit;
    this.refusal = undefined;
    this.save(commit && text !== undefined ? { commit, text } : undefined);
    return true;
  }

  private load(): Kept | undefined {
    if (!this.options.file) return undefined;
    try {
      const kept = JSON.parse(readFileSync(this.options.file, 'utf8')) as Partial<Kept> | null;
      return typeof kept?.commit === 'string' && typeof kept.text === 'string'
        ? { commit: kept.commit, text: kept.text }
        : undefined;
    } catch {
      return undefined;
    }
  }

  private save(kept: Kept | undefined): void {
    const file = this.options.file;
    if (!file) return;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(kept ?? null));
    renameSync(`${file}.tmp`, file);
  }
}

import { ReleaseSourceError, type SourceFailure } from '../errors.js';
import type { AgentLogger } from '../log.js';
import type { ReleaseSource, SignatureCheck } from './release-source.js';
import type { Candidate } from './select.js';

export type Verdict =
  | { readonly ok: true; readonly signer: string | undefined }
  | { readonly ok: false; readonly error?: { kind: SourceFailure; message: string } };

/** A candidate as checked: its tag name and the object it names (the commit if none known). */
const keyOf = (c: Candidate) => `${c.version.tag}@${c.object ?? c.commit}`;

/**
 * Checks release tags' signatures when they are required: the exact object the remote listed
 * (or, for a moved tag, the one first seen), bound to the tag's name, pointing at the commit
 * that will be built or pulled. Each tag object is checked and logged once per agent run.
 */
export class TagVerifier {
  /** Verified tag objects, with the signer. */
  private readonly verified = new Map<string, string>();
  /** Refused tag objects, with the reason. */
  private readonly refused = new Map<string, string>();

  constructor(
    private readonly source: ReleaseSource,
    private readonly options: {
      readonly requireSigned: boolean;
      readonly allowedSignersFile: string | undefined;
    },
    private readonly log: AgentLogger,
  ) {}

  /** Why this candidate was refused, if it was. */
  refusal(candidate: Candidate): string | undefined {
    return this.refused.get(keyOf(candidate));
  }

  async check(target: Candidate): Promise<Verdict> {
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

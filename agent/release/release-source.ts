/** A tag as the remote has it. */
export interface RemoteTag {
  readonly name: string;
  /** The object the tag ref points to: a tag object (annotated) or a commit (lightweight). */
  readonly object: string;
  /** The commit it finally points to. */
  readonly commit: string;
}

export type SignatureCheck =
  | {
      readonly ok: true;
      readonly signer: string;
      /** The commit the verified object points at (for a tag, its `object` header). */
      readonly commit: string;
    }
  | { readonly ok: false; readonly reason: string };

/** Where versions come from. One real implementation: GitReleaseSource (git over smart HTTP). */
export interface ReleaseSource {
  /** Tags under the given name prefixes, or every tag ('all'). Cheap for prefixes. */
  listTags(prefixes: readonly string[] | 'all'): Promise<RemoteTag[]>;
  /**
   * Makes one tag's objects local (shallow) and returns it as fetched. With `object`, a local
   * copy is reused only if it is that object; otherwise the remote's is fetched.
   */
  fetchTag(name: string, object?: string): Promise<RemoteTag>;
  /**
   * Makes these tags local (shallow) in one request for those that are not yet, so that
   * naming them in a later `listTags` costs nothing when they are unchanged.
   */
  prefetchTags(names: readonly string[]): Promise<void>;
  /**
   * Checks the signature of the tag object `object` (as the remote listed it under `name`)
   * against the allowed signers, and that it is bound to `name`: its `tag` header is `name`.
   */
  verifyTag(name: string, object: string, allowedSignersFile: string): Promise<SignatureCheck>;
  /**
   * The rollout policy as last fetched: the tip commit of the repository's `ota-policy`
   * branch (undefined when there is none) and its ota-policy.json (undefined when the branch
   * holds no such file). listTags with prefixes fetches the branch in the same request;
   * `fetchPolicy` fetches only it.
   */
  policyCommit(): Promise<string | undefined>;
  policyText(commit: string): Promise<string | undefined>;
  fetchPolicy(): Promise<void>;
  /** Whether `ancestor` is in the history of `commit`: a policy may only move forwards. */
  descendsFrom(commit: string, ancestor: string): Promise<boolean>;
  /** Checks the signature of the policy commit against the allowed signers. */
  verifyPolicy(commit: string, allowedSignersFile: string): Promise<SignatureCheck>;
  /** Writes the commit's tree as a tar file at `dest`, atomically (temp file + rename). */
  archive(commit: string, dest: string): Promise<void>;
  /** `git ls-tree <commit> -- <paths>`: the objects of these top-level paths (self-update). */
  lsTree(commit: string, paths: readonly string[]): Promise<string>;
}

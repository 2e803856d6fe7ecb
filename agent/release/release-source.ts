/** A tag as the remote has it. */
export interface RemoteTag {
  readonly name: string;
  /** The object the tag ref points to: a tag object (annotated) or a commit (lightweight). */
  readonly object: string;
  /** The commit it finally points to. */
  readonly commit: string;
}

export type SignatureCheck =
  | { readonly ok: true; readonly signer: string }
  | { readonly ok: false; readonly reason: string };

/** Where versions come from. One real implementation: GitReleaseSource (git over smart HTTP). */
export interface ReleaseSource {
  /** Tags under the given name prefixes, or every tag ('all'). Cheap for prefixes. */
  listTags(prefixes: readonly string[] | 'all'): Promise<RemoteTag[]>;
  /** Makes one tag's objects local (shallow) and returns it as fetched. */
  fetchTag(name: string): Promise<RemoteTag>;
  /** Checks a fetched tag's signature against the allowed signers. */
  verifyTag(name: string, allowedSignersFile: string): Promise<SignatureCheck>;
  /**
   * The rollout policy as last fetched: the tip commit of the repository's `ota-policy`
   * branch (undefined when there is none) and its ota-policy.json (undefined when the branch
   * holds no such file). listTags with prefixes fetches the branch in the same request;
   * `fetchPolicy` fetches only it.
   */
  policyCommit(): Promise<string | undefined>;
  policyText(commit: string): Promise<string | undefined>;
  fetchPolicy(): Promise<void>;
  /** Checks the signature of the policy commit against the allowed signers. */
  verifyPolicy(commit: string, allowedSignersFile: string): Promise<SignatureCheck>;
  /** Writes the commit's tree as a tar file at `dest`, atomically (temp file + rename). */
  archive(commit: string, dest: string): Promise<void>;
}

/** The headers of an annotated tag object, as `git cat-file tag` prints them. */
export interface TagObject {
  /** The object the tag points to. */
  readonly object: string;
  /** Its type: "commit" for a release; a tag of a tag or of a tree is not one. */
  readonly type: string;
  /** The name the tag was created (and signed) with. */
  readonly tag: string;
}

/** Reads the header lines of a tag object; undefined when one of them is missing. Pure. */
export function parseTagObject(text: string): TagObject | undefined {
  const headers = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') break; // the headers end at the first empty line
    const space = line.indexOf(' ');
    if (space > 0 && !headers.has(line.slice(0, space))) {
      headers.set(line.slice(0, space), line.slice(space + 1));
    }
  }
  const object = headers.get('object');
  const type = headers.get('type');
  const tag = headers.get('tag');
  return object && type && tag ? { object, type, tag } : undefined;
}

/**
 * Why a verified signature still does not vouch for this release: the signed object must
 * carry the ref's own name (a signed v1.0.0 copied to refs/tags/v9.0.0 must not pass as
 * 9.0.0) and point at a commit. Undefined when it does. Pure.
 */
export function bindingProblem(ref: string, tag: TagObject | undefined): string | undefined {
  if (!tag) return 'the tag object cannot be read';
  if (tag.tag !== ref) return `the signed tag is named ${tag.tag}, not ${ref}`;
  if (tag.type !== 'commit') return `the signed tag points to a ${tag.type}, not a commit`;
  return undefined;
}

/**
 * Who signed, from `git verify-tag --raw` output that reports a good signature: the SSH
 * principal, or the GPG key's user id. Undefined when it reports none. Pure.
 */
export function goodSigner(stderr: string): string | undefined {
  const ssh = /^Good "git" signature for (\S+)/m.exec(stderr);
  if (ssh) return ssh[1];
  const gpg = /^\[GNUPG:\] GOODSIG [0-9A-F]+ (.+)$/m.exec(stderr);
  return gpg?.[1]?.trim();
}

/** git's verify-tag/verify-commit output as a reason that says what to do. */
export function describeSignatureFailure(text: string): string {
  if (/NO_PUBKEY|No public key/.test(text)) {
    return 'signed with a GPG key that is not in OTA_ALLOWED_GPG_KEYS_FILE';
  }
  if (/EXPKEYSIG|EXPSIG/.test(text)) return 'signed with an expired GPG key';
  if (/REVKEYSIG/.test(text)) return 'signed with a revoked GPG key';
  if (/BADSIG/.test(text)) return 'the signature does not verify';
  if (/no signature found/i.test(text)) return 'not signed';
  if (/non-tag object|cannot verify a non-tag/i.test(text)) return 'lightweight tag: not signed';
  if (/No principal matched|not allowed/i.test(text)) {
    return 'signed by a key that is not in the allowed signers file';
  }
  if (/allowedSignersFile/i.test(text)) {
    return 'the allowed signers file (OTA_ALLOWED_SIGNERS_FILE) cannot be read';
  }
  if (/Could not verify signature|bad signature/i.test(text))
    return 'the signature does not verify';
  return `signature check failed: ${text.trim().split('\n').at(-1) ?? 'unknown error'}`;
}

import type { SimpleGit } from 'simple-git';
import { describeSignatureFailure, goodSigner } from './signature-check.js';

export type Verification =
  | { readonly ok: true; readonly signer: string }
  | { readonly ok: false; readonly reason: string };

/**
 * Runs `git verify-tag` or `git verify-commit` on one object and reads git's verdict. SSH
 * signatures are checked against gpg.ssh.allowedSignersFile (set by the caller), GPG ones
 * against the keyring in GNUPGHOME.
 */
export async function runVerify(
  git: SimpleGit,
  command: 'verify-tag' | 'verify-commit',
  object: string,
): Promise<Verification> {
  let stderr = '';
  const capturing = git.outputHandler((_command, _stdout, err) => {
    err.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
  });
  let failure = '';
  try {
    // --raw: gpg's status lines (GOODSIG, NO_PUBKEY...) instead of its prose.
    await capturing.raw([command, '--raw', object]);
  } catch (err) {
    failure = (err as Error).message;
  }
  // Only git's own verdict counts: exit 0 and, on stderr, Good "git" signature for PRINCIPAL
  // (SSH) or gpg's GOODSIG status line (valid, unexpired, unrevoked key in the keyring).
  // (verify-commit on an unsigned commit exits 1 silently, which simple-git does not raise.)
  const signer = goodSigner(stderr);
  if (!failure && signer) return { ok: true, signer };
  return { ok: false, reason: describeSignatureFailure(failure || stderr || 'no signature found') };
}

import { describe, expect, it } from 'vitest';
import {
  bindingProblem,
  describeSignatureFailure,
  goodSigner,
  parseTagObject,
} from '../../agent/release/signature-check.js';

const TAG = `object 0123456789abcdef0123456789abcdef01234567
type commit
tag v1.0.0
tagger Release Bot <release@example.com> 1795493885 +0000

v1.0.0
tag v9.0.0
-----BEGIN SSH SIGNATURE-----
`;

describe('a signed tag is bound to its name and commit', () => {
  it('reads the headers, not the message', () => {
    expect(parseTagObject(TAG)).toEqual({
      object: '0123456789abcdef0123456789abcdef01234567',
      type: 'commit',
      tag: 'v1.0.0',
    });
    expect(parseTagObject('object abc\ntype commit\n\ntag v1\n')).toBeUndefined();
  });

  it('refuses a tag object under another name, or pointing at something else', () => {
    const tag = parseTagObject(TAG);
    expect(bindingProblem('v1.0.0', tag)).toBeUndefined();
    expect(bindingProblem('v9.0.0', tag)).toBe('the signed tag is named v1.0.0, not v9.0.0');
    expect(bindingProblem('1.0.0', tag)).toBe('the signed tag is named v1.0.0, not 1.0.0');
    expect(bindingProblem('v1.0.0', tag && { ...tag, type: 'tag' })).toBe(
      'the signed tag points to a tag, not a commit',
    );
    expect(bindingProblem('v1.0.0', undefined)).toBe('the tag object cannot be read');
  });

  it('says what is wrong with a signature', () => {
    expect(describeSignatureFailure('error: no signature found')).toBe('not signed');
    expect(describeSignatureFailure('error: cannot verify a non-tag object of type commit.')).toBe(
      'lightweight tag: not signed',
    );
    expect(
      describeSignatureFailure(
        'error: gpg.ssh.allowedSignersFile needs to be configured and exist',
      ),
    ).toBe('the allowed signers file (OTA_ALLOWED_SIGNERS_FILE) cannot be read');
  });
});

describe('SSH and GPG verdicts', () => {
  it('names the signer only for a good signature', () => {
    expect(goodSigner('Good "git" signature for alice@example.com with ED25519 key SHA256:x')).toBe(
      'alice@example.com',
    );
    expect(
      goodSigner(
        '[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG 816788F99346BBEA Release <r@example.com>\n[GNUPG:] TRUST_UNDEFINED 0 pgp\n',
      ),
    ).toBe('Release <r@example.com>');
    expect(
      goodSigner('[GNUPG:] EXPKEYSIG 816788F99346BBEA Release <r@example.com>'),
    ).toBeUndefined();
    expect(
      goodSigner(
        '[GNUPG:] ERRSIG 816788F99346BBEA 22 8 00 1 9 X\n[GNUPG:] NO_PUBKEY 816788F99346BBEA',
      ),
    ).toBeUndefined();
  });

  it('says why a GPG signature does not count', () => {
    expect(describeSignatureFailure('[GNUPG:] NO_PUBKEY 816788F99346BBEA')).toBe(
      'signed with a GPG key that is not in OTA_ALLOWED_GPG_KEYS_FILE',
    );
    expect(describeSignatureFailure('[GNUPG:] EXPKEYSIG 81 R')).toBe(
      'signed with an expired GPG key',
    );
    expect(describeSignatureFailure('[GNUPG:] REVKEYSIG 81 R')).toBe(
      'signed with a revoked GPG key',
    );
    expect(describeSignatureFailure('[GNUPG:] BADSIG 81 R')).toBe('the signature does not verify');
  });
});

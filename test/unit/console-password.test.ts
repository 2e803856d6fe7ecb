import { randomBytes, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashPassword, parsePasswordHash, verifyPassword } from '../../console/src/password.js';

const stored = (n: number, r: number, p: number, salt: Buffer, key: Buffer) =>
  ['scrypt', n, r, p, salt.toString('base64'), key.toString('base64')].join('$');

describe('console password hashes (CONSOLE_PASSWORD_FILE)', () => {
  it('verifies its own hashes and refuses another password', async () => {
    const hash = parsePasswordHash(await hashPassword('correct horse'));
    expect(hash).toBeDefined();
    if (!hash) return;
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('correct hors', hash)).toBe(false);
  });

  it('verifies a hash made elsewhere with a longer key (64 bytes)', async () => {
    const salt = randomBytes(16);
    const key = scryptSync('s3cret!', salt, 64, { N: 2 ** 14, r: 8, p: 1 });
    const hash = parsePasswordHash(stored(2 ** 14, 8, 1, salt, key));
    expect(hash?.key).toHaveLength(64);
    if (!hash) return;
    expect(await verifyPassword('s3cret!', hash)).toBe(true);
    expect(await verifyPassword('s3cret?', hash)).toBe(false);
  });

  it('refuses cost settings that would take more than 256 MiB per login', () => {
    const salt = randomBytes(16);
    const key = randomBytes(32);
    expect(parsePasswordHash(stored(2 ** 20, 8, 1, salt, key))).toBeUndefined(); // 1 GiB
    expect(parsePasswordHash(stored(2 ** 18, 8, 1, salt, key))).toBeDefined(); // 256 MiB
    expect(parsePasswordHash(stored(3000, 8, 1, salt, key))).toBeUndefined(); // not a power of 2
  });
});

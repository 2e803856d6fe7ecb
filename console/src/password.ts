import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** A scrypt hash as stored in CONSOLE_PASSWORD_FILE: `scrypt$N$r$p$salt$key` (base64). */
export interface PasswordHash {
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

const COST = { n: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 32;

function derive(
  password: string,
  salt: Buffer,
  h: { n: number; r: number; p: number },
  keyLength = KEY_LENGTH,
) {
  return new Promise<Buffer>((resolve, reject) => {
    // maxmem: scrypt needs 128 * N * r bytes; node's default limit (32 MiB) is just below N=2^15.
    scrypt(
      password,
      salt,
      keyLength,
      { N: h.n, r: h.r, p: h.p, maxmem: 256 * h.n * h.r },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

export async function hashPassword(password: string, salt = randomBytes(16)): Promise<string> {
  const key = await derive(password, salt, COST);
  return ['scrypt', COST.n, COST.r, COST.p, salt.toString('base64'), key.toString('base64')].join(
    '$',
  );
}

export function parsePasswordHash(text: string): PasswordHash | undefined {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(text);
  if (!m) return undefined;
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // N a power of two, and bounded so a hand-edited file cannot make each login take minutes.
  // And at most 256 MiB per login (128 * N * r bytes).
  const powerOfTwo = n >= 2 && (n & (n - 1)) === 0;
  if (!(powerOfTwo && n <= 2 ** 20 && r >= 1 && r <= 32 && p >= 1 && p <= 16)) return undefined;
  if (128 * n * r > 256 * 2 ** 20) {
    return undefined;
  }
  const key = Buffer.from(m[5] ?? '', 'base64');
  if (key.length < 16) return undefined;
  return { n, r, p, salt: Buffer.from(m[4] ?? '', 'base64'), key };
}

export async function verifyPassword(password: string, hash: PasswordHash): Promise<boolean> {
  const key = await derive(password, hash.salt, hash, hash.key.length);
  return key.length === hash.key.length && timingSafeEqual(key, hash.key);
}

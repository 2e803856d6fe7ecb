import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789'; // no look-alikes (l/1, o/0)

/**
 * The device's identity: made once, kept on the state volume (so it survives rebuilds of the
 * agent), readable enough to find in a table: "<name>-<8 random characters>".
 */
export function loadOrCreateDeviceId(file: string, name: string): string {
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing) return existing;
  } catch {
    // first start
  }
  const bytes = randomBytes(8);
  const suffix = [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join('');
  const id = `${name}-${suffix}`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${id}\n`);
  renameSync(`${file}.tmp`, file);
  return id;
}

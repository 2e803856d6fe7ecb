import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AppContainer } from './deploy/container-runtime.js';

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789'; // no look-alikes (l/1, o/0)

/**
 * The device's identity: made once, kept on the state volume (so it survives rebuilds of the
 * agent), readable enough to find in a table: "<name>-<8 random characters>". If the state
 * volume was lost, the id the app still runs with (`recovered`) is kept rather than a new one
 * made: the device's readings and history stay under one id.
 */
export function loadOrCreateDeviceId(file: string, name: string, recovered?: string): string {
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing) return existing;
  } catch {
    // first start, or a lost state volume
  }
  const id = recovered ?? `${name}-${randomSuffix()}`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${id}\n`);
  renameSync(`${file}.tmp`, file);
  return id;
}

function randomSuffix(): string {
  return [...randomBytes(8)].map((b) => ALPHABET[b % ALPHABET.length]).join('');
}

/** The device id of the agent's app, running ones first: what a new state volume adopts. */
export function deviceIdOfApps(apps: readonly AppContainer[]): string | undefined {
  const order = [...apps].sort(
    (a, b) => Number(b.state === 'running') - Number(a.state === 'running'),
  );
  return order.find((a) => a.deviceId)?.deviceId;
}

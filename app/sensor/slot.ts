import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * One reading per interval, however many app processes sample: an interval is a slot of the
 * monotonic clock (CLOCK_MONOTONIC, which every process and container of one boot shares, and
 * which NTP or a user setting the date never moves), and a reading's id is derived from the
 * device, the boot, the interval length and the slot. During a switch the old and the new
 * version sample the same slots and make the same ids; the spool keeps the first
 * (INSERT OR IGNORE) and the central database holds each id once, so an interval never gets two
 * readings. A reboot restarts the monotonic clock, so the boot id keeps slots of different
 * boots apart.
 */

// A fixed namespace for the name-based (version 5, RFC 4122) reading ids.
const NAMESPACE = Buffer.from('6f1d4a3c9b2e4f7a8c5d0e1f2a3b4c5d', 'hex');

/** The kernel's id of this boot, the same in every container on the host. */
export function readBootId(file = '/proc/sys/kernel/random/boot_id'): {
  bootId: string;
  shared: boolean;
} {
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f-]{36}$/.test(id)) return { bootId: id, shared: true };
  } catch {
    // not Linux, or /proc not mounted: fall through
  }
  // Ids stay unique but are no longer shared with other processes: no de-duplication.
  return { bootId: randomUUID(), shared: false };
}

/** The slot `monotonicMs` falls in, for readings every `intervalMs`. */
export const slotOf = (monotonicMs: number, intervalMs: number): number =>
  Math.floor(monotonicMs / intervalMs);

/** The id of the reading for one slot: a version 5 UUID of device, boot, interval and slot. */
export function slotReadingId(
  key: { deviceId: string; bootId: string; intervalMs: number },
  slot: number,
): string {
  const name = `${key.deviceId}\n${key.bootId}\n${key.intervalMs}\n${slot}`;
  const hash = createHash('sha1').update(NAMESPACE).update(name).digest();
  hash.writeUInt8((hash.readUInt8(6) & 0x0f) | 0x50, 6); // version 5
  hash.writeUInt8((hash.readUInt8(8) & 0x3f) | 0x80, 8); // RFC 4122 variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

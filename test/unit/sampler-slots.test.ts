import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../../app/sensor/reading.js';
import { Sampler } from '../../app/sensor/sampler.js';
import { readBootId, slotOf, slotReadingId } from '../../app/sensor/slot.js';

const key = { deviceId: 'pi-1', bootId: '0f6e2c1a-8d1b-4b8e-9c3e-5a7d2f1b0c9d', intervalMs: 1_000 };

describe('reading ids per slot', () => {
  it('are the same for the same device, boot, interval and slot, and differ otherwise', () => {
    const id = slotReadingId(key, 42);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(slotReadingId({ ...key }, 42)).toBe(id);
    const others = [
      slotReadingId(key, 43),
      slotReadingId({ ...key, deviceId: 'pi-2' }, 42),
      slotReadingId({ ...key, bootId: 'another-boot' }, 42),
      slotReadingId({ ...key, intervalMs: 60_000 }, 42),
    ];
    expect(new Set([id, ...others]).size).toBe(5);
  });

  it("reads this machine's boot id, shared by every process", () => {
    const a = readBootId();
    expect(a.shared).toBe(true);
    expect(readBootId().bootId).toBe(a.bootId);
    const missing = readBootId('/nonexistent/boot_id');
    expect(missing.shared).toBe(false);
    expect(missing.bootId).not.toBe(a.bootId);
  });

  it('slots are whole intervals of the monotonic clock', () => {
    expect([0, 999, 1_000, 1_999, 2_000].map((t) => slotOf(t, 1_000))).toEqual([0, 0, 1, 1, 2]);
  });
});

describe('the sampler schedule', () => {
  function sampler(clock: { mono: number }) {
    const stored: { slot: number; reading: Reading }[] = [];
    let pendingSlot = -1;
    const s = new Sampler(
      {
        deviceId: 'pi-1',
        appVersion: '1.0.0',
        intervalMs: 1_000,
        now: () => 1_700_000_000_000 + clock.mono,
        monotonic: () => clock.mono,
        readingId: (slot) => {
          pendingSlot = slot;
          return slotReadingId(key, slot);
        },
        random: () => 0.5,
      },
      (reading) => stored.push({ slot: pendingSlot, reading }),
      (err) => {
        throw err;
      },
      pino({ level: 'silent' }),
    );
    return { s, stored };
  }

  it('samples the slot in progress at start, then each slot at its start, skipping none', async () => {
    const clock = { mono: 5_400 };
    const { s, stored } = sampler(clock);
    s.start();
    expect(stored.map((x) => x.slot)).toEqual([5]);
    // Real timers: the next sample is due at 6000 on the monotonic clock, 600 ms away.
    clock.mono = 5_999; // a timer that fires a millisecond early still takes slot 6
    await new Promise((r) => setTimeout(r, 700));
    expect(stored.map((x) => x.slot)).toEqual([5, 6]);
    clock.mono = 9_300; // the host was suspended: slots 7 and 8 passed; the late timer takes 9
    await new Promise((r) => setTimeout(r, 1_100));
    s.stop();
    expect(stored.map((x) => x.slot)).toEqual([5, 6, 9]);
    expect(stored.map((x) => x.reading.id)).toEqual([5, 6, 9].map((n) => slotReadingId(key, n)));
  });
});

import type { Logger } from '../log.js';
import { makeReading, type Reading } from './reading.js';
import { slotOf } from './slot.js';
import {
  initialWeatherState,
  nextWeather,
  type Random,
  type WeatherState,
} from './weather-model.js';

export interface SamplerOptions {
  readonly deviceId: string;
  readonly appVersion: string;
  readonly intervalMs: number;
  /** Wall clock: only for the reading's recordedAt. */
  readonly now: () => number;
  /** Monotonic clock: the schedule and the slots (see slot.ts). */
  readonly monotonic: () => number;
  /** The id of the reading for a slot (slotReadingId). */
  readonly readingId: (slot: number) => string;
  readonly random: Random;
}

/**
 * Takes one reading per slot of the monotonic clock and hands it to `store`: the slot in
 * progress at start (so a started or rolled-back app stores, and is healthy, at once), then one
 * at the start of every slot (no drift from slow stores; another process sampling the same
 * slots makes the same reading id, see slot.ts). A failing store is reported, never fatal: the
 * next slot tries again.
 */
export class Sampler {
  private state: WeatherState;
  private timer: NodeJS.Timeout | undefined;
  produced = 0;

  constructor(
    private readonly options: SamplerOptions,
    private readonly store: (reading: Reading) => void,
    private readonly onError: (err: Error) => void,
    private readonly log: Logger,
  ) {
    this.state = initialWeatherState(options.now(), options.random);
  }

  /** Samples the given slot (by default the one in progress). */
  sampleOnce(slot = slotOf(this.options.monotonic(), this.options.intervalMs)): Reading {
    const now = this.options.now();
    const { state, weather } = nextWeather(this.state, now, this.options.random);
    this.state = state;
    const reading = makeReading(weather, {
      deviceId: this.options.deviceId,
      appVersion: this.options.appVersion,
      now,
      id: this.options.readingId(slot),
    });
    this.store(reading);
    this.produced += 1;
    this.log.debug({ id: reading.id, slot, condition: reading.condition }, 'reading stored');
    return reading;
  }

  start(): void {
    this.tick(slotOf(this.options.monotonic(), this.options.intervalMs));
  }

  /**
   * Samples the slot it was scheduled for, or the one in progress if the timer fired late (the
   * host was suspended): slots that passed are skipped, not sampled in a burst. A timer that
   * fires a millisecond early still samples its own slot.
   */
  private tick(scheduled: number): void {
    const { intervalMs } = this.options;
    const slot = Math.max(scheduled, slotOf(this.options.monotonic(), intervalMs));
    try {
      this.sampleOnce(slot);
    } catch (err) {
      this.onError(err as Error);
    }
    const now = this.options.monotonic();
    const next = Math.max(slot + 1, slotOf(now, intervalMs) + 1);
    this.timer = setTimeout(() => this.tick(next), Math.max(0, next * intervalMs - now));
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

import type { Logger } from '../log.js';
import { makeReading, type Reading } from './reading.js';
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
  readonly now: () => number;
  readonly random: Random;
}

/**
 * Takes a reading every interval, on a fixed schedule (no drift from slow stores), and hands it
 * to `store`. A failing store is reported, never fatal: the next tick tries again.
 */
export class Sampler {
  private state: WeatherState;
  private timer: NodeJS.Timeout | undefined;
  private nextAt = 0;
  produced = 0;

  constructor(
    private readonly options: SamplerOptions,
    private readonly store: (reading: Reading) => void,
    private readonly onError: (err: Error) => void,
    private readonly log: Logger,
  ) {
    this.state = initialWeatherState(options.now(), options.random);
  }

  sampleOnce(): Reading {
    const now = this.options.now();
    const { state, weather } = nextWeather(this.state, now, this.options.random);
    this.state = state;
    const reading = makeReading(weather, {
      deviceId: this.options.deviceId,
      appVersion: this.options.appVersion,
      now,
    });
    this.store(reading);
    this.produced += 1;
    this.log.debug({ id: reading.id, condition: reading.condition }, 'reading stored');
    return reading;
  }

  start(): void {
    this.nextAt = this.options.now();
    this.tick();
  }

  private tick(): void {
    try {
      this.sampleOnce();
    } catch (err) {
      this.onError(err as Error);
    }
    const now = this.options.now();
    // Skip slots that already passed (e.g. after the host was suspended) instead of bursting.
    do this.nextAt += this.options.intervalMs;
    while (this.nextAt <= now);
    this.timer = setTimeout(() => this.tick(), this.nextAt - now);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

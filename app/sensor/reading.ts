import { randomUUID } from 'node:crypto';
import type { Weather } from './weather-model.js';

/** One sensor reading as it is spooled and uploaded. */
export interface Reading extends Weather {
  /** UUID made on the device; unique in the central database, which makes uploads idempotent. */
  readonly id: string;
  readonly deviceId: string;
  readonly appVersion: string;
  /** UTC, ISO 8601 with milliseconds. */
  readonly recordedAt: string;
}

export function makeReading(
  weather: Weather,
  context: { deviceId: string; appVersion: string; now: number; id?: string },
): Reading {
  return {
    id: context.id ?? randomUUID(),
    deviceId: context.deviceId,
    appVersion: context.appVersion,
    recordedAt: new Date(context.now).toISOString(),
    ...weather,
  };
}

import { makeReading, type Reading } from '../../app/sensor/reading.js';
import { initialWeatherState, nextWeather, seededRandom } from '../../app/sensor/weather-model.js';

/** `count` realistic readings, one a second from `start`. */
export function sampleReadings(count: number, deviceId = 'dev-test', start = Date.UTC(2026, 0, 1)) {
  const random = seededRandom(count);
  let state = initialWeatherState(start, random);
  const out: Reading[] = [];
  for (let i = 1; i <= count; i++) {
    const next = nextWeather(state, start + i * 1000, random);
    state = next.state;
    out.push(makeReading(next.weather, { deviceId, appVersion: '1.0.0', now: start + i * 1000 }));
  }
  return out;
}

import { describe, expect, it } from 'vitest';
import {
  classify,
  initialWeatherState,
  nextWeather,
  seededRandom,
  type Weather,
} from '../../app/sensor/weather-model.js';

const HOUR = 3_600_000;
const start = Date.UTC(2026, 5, 1, 0, 0, 0);

function simulate(seed: number, hours: number, stepMs: number): { at: number; w: Weather }[] {
  const random = seededRandom(seed);
  let state = initialWeatherState(start, random);
  const out: { at: number; w: Weather }[] = [];
  for (let at = start + stepMs; at <= start + hours * HOUR; at += stepMs) {
    const next = nextWeather(state, at, random);
    state = next.state;
    out.push({ at, w: next.weather });
  }
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('weather model', () => {
  it('is reproducible for a seed', () => {
    expect(simulate(7, 2, 60_000)).toEqual(simulate(7, 2, 60_000));
    expect(simulate(7, 2, 60_000)).not.toEqual(simulate(8, 2, 60_000));
  });

  it('keeps every value in a physical range, even at sub-second intervals', () => {
    const runs = [simulate(3, 0.5, 200), simulate(3, 48, 10_000), simulate(3, 24 * 120, 600_000)];
    const all = runs.flat().map((d) => d.w);
    const range = (pick: (w: Weather) => number) => {
      const xs = all.map(pick);
      return [Math.min(...xs), Math.max(...xs)];
    };
    const [tMin, tMax] = range((w) => w.temperatureC);
    expect(tMin).toBeGreaterThan(-30);
    expect(tMax).toBeLessThan(50);
    const [hMin, hMax] = range((w) => w.humidityPct);
    expect(hMin).toBeGreaterThanOrEqual(0);
    expect(hMax).toBeLessThanOrEqual(100);
    const [pMin, pMax] = range((w) => w.pressureHpa);
    expect(pMin).toBeGreaterThan(950);
    expect(pMax).toBeLessThan(1070);
    const [wMin, wMax] = range((w) => w.windSpeedMs);
    expect(wMin).toBeGreaterThanOrEqual(0);
    expect(wMax).toBeLessThan(40);
    const [dMin, dMax] = range((w) => w.windDirectionDeg);
    expect(dMin).toBeGreaterThanOrEqual(0);
    expect(dMax).toBeLessThan(360);
    expect(range((w) => w.precipitationMm)[0]).toBeGreaterThanOrEqual(0);
  });

  it('has a daily cycle: afternoons are warmer than nights on average', () => {
    const days = simulate(11, 24 * 60, 30 * 60_000);
    const hourOf = (at: number) => new Date(at).getUTCHours();
    const afternoon = mean(days.filter((d) => hourOf(d.at) === 15).map((d) => d.w.temperatureC));
    const night = mean(days.filter((d) => hourOf(d.at) === 3).map((d) => d.w.temperatureC));
    expect(afternoon - night).toBeGreaterThan(8);
  });

  it('drifts smoothly: consecutive readings are correlated, not independent noise', () => {
    const series = simulate(5, 24 * 10, 60_000).map((d) => d.w.pressureHpa);
    const steps = series.slice(1).map((p, i) => Math.abs(p - (series[i] as number)));
    const spread = Math.max(...series) - Math.min(...series);
    expect(mean(steps)).toBeLessThan(0.5);
    expect(spread).toBeGreaterThan(5);
  });

  it('produces varied conditions over a season, including rain', () => {
    const conditions = new Set(simulate(21, 24 * 90, 30 * 60_000).map((d) => d.w.condition));
    expect(conditions.size).toBeGreaterThanOrEqual(4);
    expect(conditions.has('rain') || conditions.has('heavy rain')).toBe(true);
  });

  it('classifies conditions from the measured values', () => {
    expect(classify(-2, 90, 3, 1)).toBe('snow');
    expect(classify(10, 90, 3, 5)).toBe('heavy rain');
    expect(classify(10, 90, 3, 1)).toBe('rain');
    expect(classify(8, 98, 1, 0)).toBe('fog');
    expect(classify(15, 50, 14, 0)).toBe('windy');
    expect(classify(15, 85, 3, 0)).toBe('cloudy');
    expect(classify(15, 70, 3, 0)).toBe('partly cloudy');
    expect(classify(15, 40, 3, 0)).toBe('clear');
  });
});

/**
 * A small stochastic weather model: a daily temperature cycle plus slow, correlated anomalies
 * (Ornstein-Uhlenbeck processes), so consecutive readings look like one place's weather rather
 * than noise. Pure: time and randomness come in as arguments.
 */

export type Condition =
  | 'clear'
  | 'partly cloudy'
  | 'cloudy'
  | 'fog'
  | 'windy'
  | 'rain'
  | 'heavy rain'
  | 'snow';

export interface Weather {
  readonly temperatureC: number;
  readonly humidityPct: number;
  readonly pressureHpa: number;
  readonly windSpeedMs: number;
  readonly windDirectionDeg: number;
  readonly precipitationMm: number;
  readonly condition: Condition;
}

export interface WeatherState {
  readonly temperatureAnomaly: number;
  readonly pressureHpa: number;
  readonly windDirectionDeg: number;
  readonly gust: number;
  readonly lastAt: number;
}

export type Random = () => number;

const HOUR = 3_600_000;
const MEAN_TEMPERATURE_C = 12;
const DAILY_AMPLITUDE_C = 6;
const WARMEST_HOUR = 15;
const MEAN_PRESSURE_HPA = 1013;

export function initialWeatherState(now: number, random: Random): WeatherState {
  return {
    temperatureAnomaly: gaussian(random) * 2,
    pressureHpa: MEAN_PRESSURE_HPA + gaussian(random) * 6,
    windDirectionDeg: random() * 360,
    gust: 0,
    lastAt: now,
  };
}

/** Mean-reverting step: after `dtHours` the value has moved towards `mean` with timescale `tauHours`. */
function ouStep(
  value: number,
  mean: number,
  sd: number,
  tauHours: number,
  dtHours: number,
  random: Random,
) {
  const decay = Math.exp(-dtHours / tauHours);
  return mean + (value - mean) * decay + sd * Math.sqrt(1 - decay * decay) * gaussian(random);
}

export function gaussian(random: Random): number {
  const u = Math.max(random(), Number.EPSILON);
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

const round = (value: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};
const clamp = (value: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, value));

export function nextWeather(
  state: WeatherState,
  now: number,
  random: Random,
): { state: WeatherState; weather: Weather } {
  const dtHours = Math.max(now - state.lastAt, 1) / HOUR;
  const temperatureAnomaly = ouStep(state.temperatureAnomaly, 0, 3, 6, dtHours, random);
  const pressureHpa = ouStep(state.pressureHpa, MEAN_PRESSURE_HPA, 8, 12, dtHours, random);
  const windDirectionDeg =
    (((state.windDirectionDeg + gaussian(random) * 25 * Math.sqrt(dtHours)) % 360) + 360) % 360;
  const gust = ouStep(state.gust, 0, 1.5, 0.05, dtHours, random);

  const hour = (now / HOUR) % 24;
  const daily = Math.cos((2 * Math.PI * (hour - WARMEST_HOUR)) / 24);
  const temperatureC = MEAN_TEMPERATURE_C + DAILY_AMPLITUDE_C * daily + temperatureAnomaly;
  const lowPressure = MEAN_PRESSURE_HPA - pressureHpa;

  // Humid at night and in low pressure, drier on warm afternoons.
  const humidityPct = clamp(68 - 14 * daily + 1.8 * lowPressure - 1.2 * temperatureAnomaly, 8, 100);
  // Deep lows and strong highs both come with tighter gradients, so more wind; gusts on top.
  const windSpeedMs = Math.max(
    0,
    2.5 + 0.3 * Math.abs(lowPressure) + 0.25 * Math.max(lowPressure, 0) + gust,
  );
  // Rain needs both moisture and a low; the rate grows with how deep the low is.
  const rainRateMmH = humidityPct > 82 && lowPressure > 4 ? 0.4 * (lowPressure - 4) : 0;
  const precipitationMm = rainRateMmH * dtHours;

  const weather: Weather = {
    temperatureC: round(temperatureC, 2),
    humidityPct: round(humidityPct, 1),
    pressureHpa: round(pressureHpa, 1),
    windSpeedMs: round(windSpeedMs, 2),
    windDirectionDeg: Math.round(windDirectionDeg) % 360,
    precipitationMm: round(precipitationMm, 3),
    condition: classify(temperatureC, humidityPct, windSpeedMs, rainRateMmH),
  };
  return {
    state: { temperatureAnomaly, pressureHpa, windDirectionDeg, gust, lastAt: now },
    weather,
  };
}

export function classify(
  temperatureC: number,
  humidityPct: number,
  windSpeedMs: number,
  rainRateMmH: number,
): Condition {
  if (rainRateMmH > 0 && temperatureC <= 0.5) return 'snow';
  if (rainRateMmH >= 4) return 'heavy rain';
  if (rainRateMmH > 0) return 'rain';
  if (humidityPct >= 96 && windSpeedMs < 2) return 'fog';
  if (windSpeedMs >= 12) return 'windy';
  if (humidityPct >= 82) return 'cloudy';
  if (humidityPct >= 65) return 'partly cloudy';
  return 'clear';
}

/** A seeded generator (mulberry32) for reproducible runs and tests. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

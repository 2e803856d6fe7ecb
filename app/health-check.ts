// The container's HEALTHCHECK: exit 0 when healthy, 1 otherwise, with the reason on stdout.
import { readFileSync } from 'node:fs';
import { evaluateHealth, type HealthStatus, monotonicMs } from './health.js';

const file = process.env.WEATHER_HEALTH_FILE?.trim() || '/tmp/weather-health.json';
let status: HealthStatus | undefined;
try {
  status = JSON.parse(readFileSync(file, 'utf8')) as HealthStatus;
} catch {
  status = undefined;
}
const verdict = evaluateHealth(status, monotonicMs());
console.log(`${verdict.healthy ? 'healthy' : 'unhealthy'}: ${verdict.reason}`);
process.exit(verdict.healthy ? 0 : 1);

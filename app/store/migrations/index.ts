import { migrationsInCode } from '../migration-source.js';
import * as devicesAndReadings from './20261123000000_devices_and_readings.js';

export const migrationSource = migrationsInCode({
  '20261123000000_devices_and_readings': devicesAndReadings,
});

import { sharedMigrations } from '../../../common/migration-source.js';
import * as devicesAndReadings from './20261123000000_devices_and_readings.js';

// The central database is shared by every version in the fleet, older ones included: each
// migration here is expand-only. Add tables, or columns that are nullable or have a default;
// never rename, drop or tighten anything in the same release (README, "Changing the central
// database"). Append new entries with a later timestamp; never edit or reorder old ones.
export const appMigrations = sharedMigrations('weather_migrations', {
  '20261123000000_devices_and_readings': devicesAndReadings,
});

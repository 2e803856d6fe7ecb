import type { AgentConfig } from '../config.js';
import type { AppRunSpec } from './container-runtime.js';
import type { TargetImage } from './plan.js';

/**
 * How every app container of this device runs: the target's image, the app's settings with
 * the device's identity and the version, the data volume, the app network, restart and log
 * rotation. Every version gets the same, so a switch changes only the image.
 */
export function appRunSpec(
  config: Pick<AgentConfig, 'appEnv' | 'appVolume' | 'appNetwork'>,
  deviceId: string,
): (target: TargetImage) => AppRunSpec {
  return (target) => ({
    image: target.image,
    version: target.version,
    commit: target.commit,
    env: { ...config.appEnv, WEATHER_DEVICE_ID: deviceId, WEATHER_APP_VERSION: target.version },
    dataVolume: config.appVolume,
    dataPath: '/data',
    network: config.appNetwork,
    restartPolicy: 'unless-stopped',
    logMaxSize: '10m',
    logMaxFiles: 3,
  });
}

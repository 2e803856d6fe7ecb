// Twenty consecutive updates of the weather app on one data volume, done by the agent's
// Deployer and done compose-style (stop the old container, then run the new one), and the
// readings each way loses.
import { docker, waitForHealth } from '../../test/helpers/docker-cli.js';
import { appEnv, type BenchDeployer, DEVICE_ID, INTERVAL_MS } from './bench-deployer.js';
import { median } from './bench-env.js';
import { type GapReport, readingGaps } from './reading-gaps.js';

export interface SeriesResult {
  readonly report: GapReport;
  /** Per update, median: from the first command until the new version is healthy. */
  readonly toHealthyMs: number;
}

const versionAt = (versions: readonly [string, string], i: number) => versions[i % 2] as string;

/** Version 0 first, then `updates` switches through deployer.switchTo, alternating. */
export async function agentSeries(
  kit: BenchDeployer,
  versions: readonly [string, string],
  image: (version: string) => string,
  commit: string,
  updates: number,
): Promise<SeriesResult> {
  const target = (version: string) => ({ version, commit, image: image(version) });
  const toHealthy: number[] = [];
  for (let i = 0; i <= updates; i++) {
    const version = versionAt(versions, i);
    const start = performance.now();
    let healthyAt: number | undefined;
    kit.onStep = (step) => {
      if (step.action === 'stop') healthyAt ??= performance.now();
    };
    const result = await kit.deployer.switchTo(target(version));
    kit.onStep = undefined;
    if (result.outcome !== 'succeeded') {
      throw new Error(`switch to ${version} ended ${result.outcome}: ${JSON.stringify(result)}`);
    }
    if (i === 0) continue; // the first start is not an update
    toHealthy.push((healthyAt ?? performance.now()) - start);
  }
  await kit.stopAll();
  return {
    report: await readingGaps(kit.volume, image(versions[0]), DEVICE_ID, INTERVAL_MS),
    toHealthyMs: median(toHealthy),
  };
}

/**
 * What a user does without the agent (`docker compose up -d` with a new tag): stop and remove
 * the old container, then run the new one on the same volume. Each version is left to turn
 * healthy before the next update, as the agent's gate does, so both series run alike.
 */
export async function recreateSeries(
  names: { network: string; volume: string; prefix: string; label: string },
  versions: readonly [string, string],
  image: (version: string) => string,
  updates: number,
): Promise<SeriesResult> {
  await docker(['network', 'create', '--label', names.label, names.network]);
  await docker(['volume', 'create', '--label', names.label, names.volume]);
  const runArgs = (name: string, version: string) => [
    'run',
    '-d',
    '--name',
    name,
    '--label',
    names.label,
    '--network',
    names.network,
    '--restart',
    'unless-stopped',
    '-v',
    `${names.volume}:/data`,
    ...Object.entries(appEnv(version)).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    image(version),
  ];
  const toHealthy: number[] = [];
  let current = '';
  for (let i = 0; i <= updates; i++) {
    const next = `${names.prefix}-${i}`;
    const start = performance.now();
    if (current) {
      await docker(['stop', '-t', '10', current]);
      await docker(['rm', current]);
    }
    await docker(runArgs(next, versionAt(versions, i)));
    current = next;
    await waitForHealth(next, 'healthy', 60_000);
    if (i > 0) toHealthy.push(performance.now() - start);
  }
  await docker(['stop', '-t', '10', current]);
  return {
    report: await readingGaps(names.volume, image(versions[0]), DEVICE_ID, INTERVAL_MS),
    toHealthyMs: median(toHealthy),
  };
}

/** Removes the containers, networks and volumes carrying `label`. */
export async function removeLabelled(label: string): Promise<void> {
  const filter = ['--filter', `label=${label}`];
  const ids = async (args: string[]) =>
    (await docker([...args, ...filter]).catch(() => '')).split('\n').filter(Boolean);
  for (const id of await ids(['ps', '-aq'])) await docker(['rm', '-f', id]).catch(() => undefined);
  for (const id of await ids(['network', 'ls', '-q'])) {
    await docker(['network', 'rm', id]).catch(() => undefined);
  }
  for (const id of await ids(['volume', 'ls', '-q'])) {
    await docker(['volume', 'rm', id]).catch(() => undefined);
  }
}

// Prints what a rollback with the agent costs next to getting the previous version back
// without it, and how many readings 20 updates lose with the agent vs a compose-style
// recreate, all with the real weather app image (Dockerfile.app) on the real engine.
// Usage: npm run build && npm run bench:rollback     (about 10 minutes on 2 cores)
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgentLogger } from '../agent/log.js';
import { TestRegistry } from '../test/helpers/registry.js';
import {
  type AppImages,
  appImages,
  buildNoCache,
  buildStageImage,
  imageIds,
  pullCounter,
  removeUntagged,
} from './lib/app-images.js';
import {
  type BenchDeployer,
  benchDeployer,
  INTERVAL_MS,
  othersOnEngine,
} from './lib/bench-deployer.js';
import { loadTestEnv, median, printTable, seconds, timed } from './lib/bench-env.js';
import { type RollbackTimes, timeRollbacks } from './lib/rollback-timing.js';
import {
  agentSeries,
  recreateSeries,
  removeLabelled,
  type SeriesResult,
} from './lib/update-series.js';

const V1 = '1.0.0';
const V2 = '1.1.0';
const ROLLBACKS = 5;
const UPDATES = 20;
const suffix = randomBytes(3).toString('hex');
const LOCAL_REPO = `ota-bench-${suffix}/weather`;
const BENCH_LABEL = `io.edge-ota.bench=rollback-${suffix}`;

type Row = [string, string, string];
const ref = (version: string) => `${LOCAL_REPO}:${version}`;
const progress = (message: string) => console.error(`[bench:rollback] ${message}`);
const spread = (ms: number[]) => `median ${seconds(median(ms))}, max ${seconds(Math.max(...ms))}`;

/** Part 2: getting 1.0.0's image back without a kept container (the image is removed first). */
async function reobtain(images: AppImages, registry: TestRegistry, rows: Row[]) {
  const part = '2 image back';
  const { store, release, contextTar } = images;
  await store.remove(V1);
  progress('rebuilding 1.0.0 with the build cache');
  const cached = (await timed(() => store.build(release(V1), contextTar))).ms;
  rows.push([part, 'rebuild, DockerImageStore.build, engine build cache', seconds(cached)]);

  progress('rebuilding 1.0.0 with docker build --no-cache (about 2 minutes)');
  const noCache = await buildNoCache(images, V1, ref('no-cache'));
  rows.push([part, 'rebuild, docker build --no-cache (CLI)', seconds(noCache)]);

  progress('pushing 1.0.0 to the local registry, then pulling it back');
  await registry.push(ref(V1), 'weather', V1);
  await store.remove(V1);
  const counter = pullCounter();
  const pulled = await timed(() => store.pull(release(V1), counter.onProgress));
  if (pulled.value.commit !== images.commit) throw new Error('pulled image has another commit');
  rows.push([part, 'pull, DockerImageStore.pull, registry on 127.0.0.1', seconds(pulled.ms)]);
  rows.push([part, '  of which fetched (the rest was on the engine)', counter.summary()]);
  return { cached, noCache, pull: pulled.ms };
}

function rollbackRows(rows: Row[], t: RollbackTimes) {
  const part = '1 rollback';
  const call = `rollbackTo('${V1}') after a switch to ${V2}, n=${ROLLBACKS}`;
  rows.push([part, `${call}: to running`, spread(t.running)]);
  rows.push([part, `${call}: to healthy, agent runs the check`, spread(t.healthy)]);
  rows.push([part, `${call}: to healthy, Docker's 5 s interval`, spread(t.engineHealthy)]);
  rows.push([part, `${call}: call returned (${V2} stopped)`, spread(t.total)]);
  rows.push([part, 'started from the kept, stopped container', `${t.fromKept} of ${ROLLBACKS}`]);
}

function seriesRows(rows: Row[], who: string, s: SeriesResult) {
  const part = '3 20 updates';
  const r = s.report;
  const pending = r.pending > 0 ? ` (+${r.pending} still in the spool)` : '';
  rows.push([part, `${who}: readings in weather.db`, `${r.uploaded}${pending}`]);
  rows.push([part, `${who}: one process at 1/s over the same span`, `${r.expected}`]);
  rows.push([part, `${who}: readings < 0.5 s apart (two versions sampling)`, `${r.doubled}`]);
  const limit = (1.5 * INTERVAL_MS) / 1000;
  rows.push([part, `${who}: gaps > ${limit} s / intervals missed`, `${r.gaps} / ${r.missed}`]);
  rows.push([part, `${who}: longest gap between readings`, seconds(r.longestMs)]);
  rows.push([part, `${who}: per update, to new version healthy (median)`, seconds(s.toHealthyMs)]);
}

/** Warns in the output when another agent showed up while the bench's deployer ran. */
async function checkAlone(rows: Row[], part: string) {
  const others = await othersOnEngine();
  if (others.length > 0)
    rows.push([part, 'WARNING: other agent containers appeared', others.join(', ')]);
}

async function main(rows: Row[]): Promise<void> {
  const others = await othersOnEngine();
  if (others.length > 0) {
    throw new Error(
      `an agent or agent-managed app containers are on this engine: ${others.join(', ')}. ` +
        'Agents act on every labelled app container, so they and this bench would stop each ' +
        "other's containers: run it when they are gone.",
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-rollback-'));
  const log = createAgentLogger('error', process.stderr);
  const before = await imageIds();
  const kits: BenchDeployer[] = [];
  let registry: TestRegistry | undefined;
  let images: AppImages | undefined;
  let buildStage: string | undefined;
  try {
    registry = await TestRegistry.start();
    images = await appImages(dir, LOCAL_REPO, `${registry.address}/weather`, log);
    const { store, release, contextTar, commit } = images;
    progress(`building ${V1} through DockerImageStore.build (first build: about 2 minutes)`);
    const first = await timed(() => store.build(release(V1), contextTar));
    const second = await timed(() => store.build(release(V2), contextTar));
    buildStage = await buildStageImage(images);
    rows.push(['0 setup', `build ${V1} (engine cache as found)`, seconds(first.ms)]);
    rows.push(['0 setup', `build ${V2} (same tree, other VERSION)`, seconds(second.ms)]);

    const back = await reobtain(images, registry, rows);

    const names = (part: string) => ({
      network: `ota-bench-${part}-${suffix}`,
      volume: `ota-bench-${part}-data-${suffix}`,
    });
    const rollbackKit = await benchDeployer(names('rollback'), store, log);
    kits.push(rollbackKit);
    const target = (version: string) => ({ version, commit, image: ref(version) });
    const times = await timeRollbacks(rollbackKit, target, V1, V2, ROLLBACKS, progress);
    rollbackRows(rows, times);
    await rollbackKit.close();
    await checkAlone(rows, '1 rollback');
    const toHealthy = median(times.healthy);
    const restore = (what: string, ms: number) =>
      rows.push(['4 1.0.0 back', `${what}, until healthy`, seconds(ms)]);
    restore('agent rollbackTo (kept container)', toHealthy);
    restore('rebuild with cache + start (est.)', back.cached + toHealthy);
    restore('docker build --no-cache + start (est.)', back.noCache + toHealthy);
    restore('pull from a registry + start (est.)', back.pull + toHealthy);

    progress(`${UPDATES} updates through deployer.switchTo`);
    const seriesKit = await benchDeployer(names('agent'), store, log);
    kits.push(seriesKit);
    const versions = [V1, V2] as const;
    seriesRows(
      rows,
      'agent switchTo',
      await agentSeries(seriesKit, versions, ref, commit, UPDATES),
    );
    await seriesKit.close();
    await checkAlone(rows, '3 20 updates');

    progress(`${UPDATES} updates compose-style (docker stop, rm, run -d)`);
    const recreate = await recreateSeries(
      { ...names('recreate'), prefix: `ota-bench-recreate-${suffix}`, label: BENCH_LABEL },
      versions,
      ref,
      UPDATES,
    );
    seriesRows(rows, 'stop+rm+run -d', recreate);
  } finally {
    progress('cleaning up');
    for (const kit of kits) await kit.close().catch((err) => progress(`cleanup: ${err}`));
    await removeLabelled(BENCH_LABEL);
    for (const version of [V1, V2]) {
      await images?.store.remove(version).catch((err) => progress(`cleanup: ${err}`));
    }
    await registry?.stop();
    // The build stage's cache goes too, unless it was on the engine before the bench.
    if (buildStage && !before.has(buildStage) && (await removeUntagged(buildStage))) {
      progress(`removed the build stage's cache image ${buildStage.slice(7, 19)}`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

const started = performance.now();
const rows: Row[] = [];
try {
  loadTestEnv();
  await main(rows);
} catch (err) {
  console.error('bench failed:', err);
  process.exitCode = 1;
}
if (rows.length > 0) {
  // By part number, not in the order run (part 2 runs first: it needs no container on 1.0.0).
  printTable([...rows].sort((a, b) => a[0].localeCompare(b[0])));
  console.log(
    [
      "method: real app image (Dockerfile.app built by the agent's DockerImageStore from a `git archive` of",
      "  HEAD, revision label = HEAD) run by the agent's real Deployer (gate poll 100 ms, watch 0), 1 reading/s.",
      '  running = start returned and inspect says running; healthy, agent = the gate passed: the agent ran the',
      "  image's HEALTHCHECK command itself (docker exec) while Docker said starting; healthy, Docker = Docker's own",
      '  status turned healthy (its check runs every 5 s, first 5 s after start: the gate before issue 12).',
      '  gaps: weather.db + unsent spool rows by recorded_at.',
    ].join('\n'),
  );
}
console.log(`total runtime: ${((performance.now() - started) / 1000).toFixed(1)} s`);

// A staged rollout (5% -> 25% -> 100%) of one release to a fleet of 500 devices, each the
// agent's real release watcher polling one git server, once jittered and once in lockstep.
// Prints per stage how many devices moved and the server's requests per minute, mean and peak.
// Usage: npm run build && npm run bench:fleet
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAgentConfig } from '../agent/config.js';
import { nextPollDelay } from '../agent/release/poll-schedule.js';
import type { ReleaseWatcher } from '../agent/release/release-watcher.js';
import { rolloutBucket } from '../agent/release/rollout-policy.js';
import { parseVersion, type Version } from '../agent/release/version.js';
import { seededRandom } from '../app/sensor/weather-model.js';
import { GitHttpServer } from '../test/helpers/git-http-server.js';
import { TestRepo } from '../test/helpers/git-repo.js';
import { makeWatcher } from '../test/helpers/release-fixture.js';
import { CountingProxy } from './lib/counting-proxy.js';
import { runVirtualFleet } from './lib/virtual-fleet.js';

const TOKEN = 'ghp_BENCHTOKEN0123456789abcdefSECRET';
const DEVICES = 500;
const OLD_TAGS = 300;
const RELEASE = '1.1.0';
const STAGES = [5, 25, 100] as const;
/** Git polls under way at once: each spawns a few git processes here and on the server. */
const CONCURRENCY = 8;
const BUCKET_MS = 5_000;
const SEED = 1;
// The agent's own defaults (OTA_POLL_INTERVAL, OTA_POLL_JITTER_PERCENT).
const defaults = loadAgentConfig({ OTA_REPO_URL: 'https://example.com/app.git' });
const INTERVAL_MS = defaults.pollIntervalMs;
const JITTER = defaults.pollJitter;
/** Longer than the longest jittered delay (1 + jitter intervals): every device polls in each stage. */
const STAGE_MS = 1.25 * INTERVAL_MS;
const none = new Set<string>();

type Schedule = 'jittered' | 'lockstep';

interface Device {
  readonly id: string;
  readonly watcher: ReleaseWatcher;
  readonly random: () => number;
  /** The virtual time of the poll under way: the watcher's clock. */
  clock: number;
  current: Version;
  movedAt: number | undefined;
}

interface Poll {
  readonly at: number;
  readonly requests: number;
}

interface StageRow {
  readonly schedule: Schedule;
  readonly percent: number;
  readonly moved: number;
  readonly onRelease: number;
  readonly expected: number;
  readonly polls: number;
  readonly requests: number;
  readonly meanPerMin: number;
  readonly peakPerMin: number;
  /** When the last device of the stage moved, from the stage's start. */
  readonly lastMoveMs: number | undefined;
}

interface RunResult {
  readonly rows: StageRow[];
  readonly polls: Poll[];
  readonly errors: number;
  readonly wrongMoves: number;
  readonly outOfOrder: number;
  readonly proxyMismatch: number;
  readonly failedRequests: number;
  /** Server, repository and 500 watchers made, before the first poll. */
  readonly setupMs: number;
  readonly realMs: number;
}

const version = (text: string): Version => {
  const v = parseVersion(text);
  if (!v) throw new Error(`not a version: ${text}`);
  return v;
};
const policy = (percent: number) => JSON.stringify({ releases: { [RELEASE]: { percent } } });
const percentAt = (at: number) => STAGES[Math.min(Math.floor(at / STAGE_MS), 2)] ?? 100;

/** Release-ordered old versions below 1.0.0: 20 patches per minor. */
const oldTags = (n: number) =>
  Array.from({ length: n }, (_, i) => `v0.${Math.floor(i / 20)}.${i % 20}`);

/** Each device's own random source, the same in every run and in the schedule-only figures. */
const deviceRandom = (n: number) => seededRandom(SEED * 1_000_003 + n);

/** Polls and requests in stage `k`, with the mean and the busiest bucket as rates per minute. */
function stageLoad(polls: readonly Poll[], k: number) {
  const start = k * STAGE_MS;
  const inStage = polls.filter((p) => p.at >= start && p.at < start + STAGE_MS);
  const buckets = new Array<number>(Math.ceil(STAGE_MS / BUCKET_MS)).fill(0);
  for (const p of inStage) {
    const b = Math.floor((p.at - start) / BUCKET_MS);
    buckets[b] = (buckets[b] ?? 0) + p.requests;
  }
  const requests = inStage.reduce((sum, p) => sum + p.requests, 0);
  return {
    polls: inStage.length,
    requests,
    meanPerMin: (requests / STAGE_MS) * 60_000,
    peakPerMin: (Math.max(...buckets) / BUCKET_MS) * 60_000,
  };
}

/**
 * Busiest bucket over the mean, per stage, of the poll schedule alone (no git, one unit per
 * poll): separates what the jitter does from what a spread start does.
 */
function scheduleOnly(spreadStart: boolean, jitter: number, stages: number): string {
  const polls: Poll[] = [];
  for (let n = 0; n < DEVICES; n++) {
    const random = deviceRandom(n);
    let at = spreadStart ? random() * INTERVAL_MS : 0;
    for (; at < stages * STAGE_MS; at += nextPollDelay(INTERVAL_MS, jitter, random)) {
      polls.push({ at, requests: 1 });
    }
  }
  return Array.from({ length: stages }, (_, k) => {
    const load = stageLoad(polls, k);
    return (load.peakPerMin / load.meanPerMin).toFixed(2);
  }).join(' ');
}

async function runFleet(schedule: Schedule): Promise<RunResult> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'bench-fleet-'));
  const root = join(dir, 'srv');
  const server = new GitHttpServer({ root, token: TOKEN });
  let proxy: CountingProxy | undefined;
  try {
    await server.start();
    proxy = new CountingProxy(server.port);
    await proxy.start();
    const repo = await TestRepo.create(dir, root, 'app');
    await repo.push(); // tagMany writes refs to HEAD straight into the bare repository
    await repo.tagMany(oldTags(OLD_TAGS));
    await repo.tag('v1.0.0');
    // The operator's order: the policy first, then the tag, so no device takes it early.
    await repo.setPolicy(policy(STAGES[0]));
    await repo.commit(`release ${RELEASE}`, { VERSION: `${RELEASE}\n` });
    await repo.push();
    await repo.tag(`v${RELEASE}`);

    const counting = proxy;
    const devices: Device[] = Array.from({ length: DEVICES }, (_, n) => {
      const id = `pi-${n}`;
      const stateDir = join(dir, 'devices', id);
      mkdirSync(stateDir, { recursive: true });
      const device: Device = {
        id,
        random: deviceRandom(n),
        clock: 0,
        current: version('1.0.0'),
        movedAt: undefined,
        watcher: makeWatcher(
          { url: counting.url(id, 'app'), stateDir, token: TOKEN },
          { device: { id, groups: [] }, now: () => device.clock },
        ).watcher,
      };
      return device;
    });

    const setupMs = performance.now() - started;
    const polls: Poll[] = [];
    let errors = 0;
    let wrongMoves = 0;
    const jitter = schedule === 'jittered' ? JITTER : 0;
    const fleet = await runVirtualFleet({
      // Jittered: the devices came up at random moments; lockstep: all at the same one.
      firstPolls: devices.map((d) => (schedule === 'jittered' ? d.random() * INTERVAL_MS : 0)),
      nextDelay: (i) => nextPollDelay(INTERVAL_MS, jitter, devices[i]?.random ?? Math.random),
      events: STAGES.slice(1).map((percent, k) => ({
        at: (k + 1) * STAGE_MS,
        run: async () => void (await repo.setPolicy(policy(percent))),
      })),
      until: STAGES.length * STAGE_MS,
      concurrency: CONCURRENCY,
      poll: async (i, at) => {
        const device = devices[i];
        if (!device) return;
        device.clock = at;
        const before = counting.count(device.id);
        const result = await device.watcher.poll(device.current, none);
        polls.push({ at, requests: counting.count(device.id) - before });
        if (result.error) errors += 1;
        const target = result.target?.version;
        if (target === undefined) return;
        if (target !== RELEASE || rolloutBucket(device.id, RELEASE) >= percentAt(at)) {
          wrongMoves += 1;
        }
        device.current = version(target);
        device.movedAt ??= at;
      },
    });

    const rows = STAGES.map((percent, k): StageRow => {
      const start = k * STAGE_MS;
      const end = start + STAGE_MS;
      const moves = devices.flatMap((d) =>
        d.movedAt !== undefined && d.movedAt >= start && d.movedAt < end ? [d.movedAt] : [],
      );
      return {
        schedule,
        percent,
        moved: moves.length,
        onRelease: devices.filter((d) => d.movedAt !== undefined && d.movedAt < end).length,
        expected: devices.filter((d) => rolloutBucket(d.id, RELEASE) < percent).length,
        ...stageLoad(polls, k),
        lastMoveMs: moves.length > 0 ? Math.max(...moves) - start : undefined,
      };
    });
    const counted = polls.reduce((sum, p) => sum + p.requests, 0);
    return {
      rows,
      polls,
      errors,
      wrongMoves,
      outOfOrder: fleet.outOfOrder,
      proxyMismatch: proxy.total - counted,
      failedRequests: proxy.failures,
      setupMs,
      realMs: performance.now() - started,
    };
  } finally {
    await proxy?.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');

function print(rows: readonly StageRow[]): void {
  const head = [
    'schedule',
    'stage',
    'moved',
    'on 1.1.0',
    'expected',
    'polls',
    'requests',
    'req/min mean',
    'req/min peak',
    'peak/mean',
    'last move',
  ];
  const cells = rows.map((r) => [
    r.schedule,
    `${r.percent}%`,
    int(r.moved),
    `${r.onRelease}/${DEVICES}`,
    String(r.expected),
    int(r.polls),
    int(r.requests),
    int(r.meanPerMin),
    int(r.peakPerMin),
    (r.peakPerMin / r.meanPerMin).toFixed(2),
    r.lastMoveMs === undefined ? '-' : `+${(r.lastMoveMs / 1000).toFixed(0)} s`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) =>
    c.map((s, i) => (i < 1 ? s.padEnd(widths[i] ?? 0) : s.padStart(widths[i] ?? 0))).join('  ');
  const rule = '-'.repeat(line(head).length);
  console.log(line(head));
  cells.forEach((c, i) => {
    if (i === 0 || rows[i - 1]?.schedule !== rows[i]?.schedule) console.log(rule);
    console.log(line(c));
  });
  console.log(rule);
}

/** "3 x 1,480, 5 x 520": how many polls made how many requests. */
function perPoll(polls: readonly Poll[]): string {
  const counts = new Map<number, number>();
  for (const p of polls) counts.set(p.requests, (counts.get(p.requests) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => a - b)
    .map(([requests, n]) => `${requests} x ${int(n)}`)
    .join(', ');
}

const started = performance.now();
const results: RunResult[] = [];
try {
  for (const schedule of ['jittered', 'lockstep'] as const) {
    const result = await runFleet(schedule);
    results.push(result);
    const seconds = (result.realMs - result.setupMs) / 1000;
    console.log(
      `${schedule}: set-up ${(result.setupMs / 1000).toFixed(0)} s, then ` +
        `${int(result.polls.length)} polls in ${seconds.toFixed(0)} s real ` +
        `(${(result.polls.length / seconds).toFixed(1)} polls/s); requests per poll ` +
        `(requests x polls): ${perPoll(result.polls)}; poll errors ${result.errors}, ` +
        `non-2xx ${result.failedRequests}, moves outside the policy ${result.wrongMoves}, ` +
        `polls out of order ${result.outOfOrder}, requests outside polls ${result.proxyMismatch}`,
    );
  }
} catch (err) {
  console.error('bench failed:', err);
  process.exitCode = 1;
}
if (results.length > 0) {
  print(results.flatMap((r) => r.rows));
  const stage = `${STAGE_MS / 1000} s`;
  console.log(
    `method: ${DEVICES} devices, each the agent's GitReleaseSource + ReleaseWatcher with its own ` +
      `state dir, poll one git http-backend (token, ${OLD_TAGS + 2} tags) through a counting ` +
      `proxy; v${RELEASE} is tagged at ${STAGES[0]}%, then commits to ota-policy raise it; ` +
      `one stage = ${stage} (1.25 poll intervals).`,
  );
  console.log(
    `time is virtual: polls run in due order, ${CONCURRENCY} at a time, a policy change waits ` +
      'for every earlier poll, and each poll counts its real requests at its due time, so the ' +
      `rates are a real fleet's at the agent's defaults (${INTERVAL_MS / 1000} s interval), not ` +
      'this machine; peak = busiest 5 s, scaled to a minute.',
  );
  console.log(
    `jittered: devices start at random moments within one interval, then nextPollDelay(` +
      `${INTERVAL_MS / 1000} s, ${JITTER * 100}%); lockstep: all start at once, jitter 0. ` +
      'expected = devices whose rolloutBucket(id, 1.1.0) < percent.',
  );
  console.log(
    'schedule alone (polls, no git), peak/mean per stage: random start, jitter 0: ' +
      `${scheduleOnly(true, 0, 3)}; all start at once, jitter ${JITTER * 100}%: ` +
      `${scheduleOnly(false, JITTER, 8)} (8 stages, 10 min).`,
  );
}
console.log(`total runtime: ${((performance.now() - started) / 1000).toFixed(1)} s`);

// A release that fails on 30 % of a 500-device fleet, rolled out 5 % -> 25 % -> 100 %, with and
// without halt criteria (20 % after 10), and once with the criteria but 100 % at once: how many
// devices start the bad release. Each device decides as the agent does (versionsToCheck,
// checkHalts with the real CentralRollouts, admitWithHalts, selectTarget) against one real
// SQLite central database, to which each device's real CentralReporter copies the outcome of its
// switch when it ends. Polls run in virtual time (runVirtualFleet) at the agent's default
// interval and jitter. No git (bench:fleet measures that side) and no engine: a switch is
// simulated as its duration and its outcome.
// Usage: npm run build && npm run bench:halt
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex from 'knex';
import { loadAgentConfig } from '../agent/config.js';
import { createAgentLogger } from '../agent/log.js';
import { admitWithHalts, checkHalts, versionsToCheck } from '../agent/release/halt-check.js';
import { meetsHalt } from '../agent/release/halt-criteria.js';
import { nextPollDelay } from '../agent/release/poll-schedule.js';
import { parsePolicy, type RolloutPolicy, rolloutBucket } from '../agent/release/rollout-policy.js';
import { type Candidate, selectTarget } from '../agent/release/select.js';
import { parseVersion, type Version } from '../agent/release/version.js';
import { CentralReporter } from '../agent/report/central-reporter.js';
import { CentralRollouts } from '../agent/report/rollout-store.js';
import type { Outcome } from '../agent/state/agent-state.js';
import { loadAppConfig } from '../app/config.js';
import { seededRandom } from '../app/sensor/weather-model.js';
import { knexConnection } from '../common/knex-connection.js';
import { runVirtualFleet } from './lib/virtual-fleet.js';

const DEVICES = 500;
const RELEASE = '1.1.0';
const FAIL_PERCENT = 30;
const HALT = { failedPercent: 20, minDevices: 10 };
const STAGE_MS = 10 * 60_000;
const RAMP = Array.from({ length: 50 }, (_, k) => 2 * (k + 1));
const UNTIL_MS = 40 * 60_000;
const SEED = 7;
// A switch: 60 s to get the image, then the health gate (up to 120 s) and the watch window (120 s).
const SUCCEEDS_AFTER_MS = 60_000 + 30_000 + 120_000;
const FAILS_HEALTH_AFTER_MS = 60_000 + 120_000;
const ROLLS_BACK_AFTER_MS = 60_000 + 30_000 + 60_000;
const defaults = loadAgentConfig({ OTA_REPO_URL: 'https://example.com/app.git' });
const INTERVAL_MS = defaults.pollIntervalMs;
const JITTER = defaults.pollJitter;
const none = new Set<string>();
const log = createAgentLogger('silent');

interface Scenario {
  readonly name: string;
  /** The percentage of each stage, raised every `stageMs`. */
  readonly stages: readonly number[];
  readonly stageMs: number;
  readonly halt: boolean;
}

const SCENARIOS: readonly Scenario[] = [
  { name: 'no halt, 5/25/100 % (10 min)', stages: [5, 25, 100], stageMs: STAGE_MS, halt: false },
  { name: 'halt, 5/25/100 % (10 min)', stages: [5, 25, 100], stageMs: STAGE_MS, halt: true },
  { name: 'halt, +2 % a minute', stages: RAMP, stageMs: 60_000, halt: true },
  { name: 'halt, 100 % at once', stages: [100], stageMs: STAGE_MS, halt: true },
];

interface Device {
  readonly id: string;
  readonly random: () => number;
  readonly reporter: CentralReporter;
  /** How this device's switch to the release ends, and after how long. */
  readonly ending: { readonly outcome: Outcome; readonly afterMs: number };
  startedAt: number | undefined;
}

const version = (text: string): Version => parseVersion(text) ?? (undefined as never);
const candidates: Candidate[] = ['1.0.0', RELEASE].map((t) => ({ version: version(t), commit: t }));

function policyOf(percent: number, halt: boolean): RolloutPolicy {
  return parsePolicy(
    JSON.stringify({ releases: { [RELEASE]: halt ? { percent, halt: HALT } : { percent } } }),
  );
}

/** A stable 30 % of the fleet, independent of the rollout's own sample. */
function ending(id: string): Device['ending'] {
  if (rolloutBucket(id, 'fault') >= FAIL_PERCENT)
    return { outcome: 'succeeded', afterMs: SUCCEEDS_AFTER_MS };
  return rolloutBucket(id, 'how') < 50
    ? { outcome: 'failed', afterMs: FAILS_HEALTH_AFTER_MS }
    : { outcome: 'rolled-back', afterMs: ROLLS_BACK_AFTER_MS };
}

interface Result {
  readonly scenario: Scenario;
  readonly started: number;
  readonly failed: number;
  /** When the finished outcomes first met the criteria (from the devices' own endings). */
  readonly metAt: number | undefined;
  readonly startedBeforeMet: number;
  readonly inFlightAtMet: number;
  /** The first evaluation that found the criteria met, and what it recorded. */
  readonly haltedAt: number | undefined;
  readonly countsAtHalt: string | undefined;
  readonly startedAfterHalt: number;
  readonly reads: number;
  readonly polls: number;
  readonly realMs: number;
}

async function run(scenario: Scenario): Promise<Result> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'bench-halt-'));
  const db = knex(
    knexConnection(loadAppConfig({ WEATHER_DB_FILE: join(dir, 'central.db') }).db, 'bench'),
  );
  try {
    const rollouts = new CentralRollouts(db);
    const devices: Device[] = Array.from({ length: DEVICES }, (_, n) => {
      const id = `pi-${n}`;
      return {
        id,
        random: seededRandom(SEED * 1_000_003 + n),
        reporter: new CentralReporter(db, id, log),
        ending: ending(id),
        startedAt: undefined,
      };
    });
    const policies = scenario.stages.map((p) => policyOf(p, scenario.halt));
    const policyAt = (at: number) =>
      policies[Math.min(Math.floor(at / scenario.stageMs), policies.length - 1)];
    // Switches under way, by when they end: each is copied to the central database at its end.
    const pending: { at: number; device: Device }[] = [];
    const flush = async (until: number) => {
      pending.sort((a, b) => a.at - b.at);
      while (pending[0] && pending[0].at <= until) {
        const { at, device } = pending.shift() as { at: number; device: Device };
        const startedAt = new Date(device.startedAt ?? 0).toISOString();
        await device.reporter.sync([
          {
            id: 1,
            from: '1.0.0',
            to: RELEASE,
            commit: RELEASE,
            kind: 'switch',
            startedAt,
            finishedAt: new Date(at).toISOString(),
            outcome: device.ending.outcome,
            reason: device.ending.outcome === 'succeeded' ? null : 'failed on this device',
          },
        ]);
      }
    };
    let haltedAt: number | undefined;
    let countsAtHalt: string | undefined;
    let reads = 0;
    const fleet = await runVirtualFleet({
      firstPolls: devices.map((d) => d.random() * INTERVAL_MS),
      nextDelay: (i) => nextPollDelay(INTERVAL_MS, JITTER, devices[i]?.random ?? Math.random),
      events: [],
      until: UNTIL_MS,
      // One at a time, so every outcome due before a poll is in the database when it reads.
      concurrency: 1,
      poll: async (i, at) => {
        const device = devices[i];
        const policy = policyAt(at);
        if (!device || !policy) return;
        await flush(at);
        if (device.startedAt !== undefined) return;
        const dev = { id: device.id, groups: [] };
        const versions = versionsToCheck(policy, candidates, {
          ...dev,
          failed: none,
          current: version('1.0.0'),
          movingDown: false,
          onChannel: () => true,
        });
        if (versions.length > 0) reads += 1;
        const halts = await checkHalts(
          rollouts,
          policy,
          versions,
          { deviceId: device.id, now: new Date(at) },
          log,
        );
        const state = halts.get(RELEASE);
        if (state?.kind === 'halted' && haltedAt === undefined) {
          haltedAt = state.haltedAt.getTime();
          countsAtHalt = state.reason;
        }
        const { target } = selectTarget(candidates, {
          channel: 'stable',
          failed: none,
          refused: new Map(),
          admit: admitWithHalts(policy, dev, halts),
        });
        if (target?.version.text !== RELEASE) return;
        device.startedAt = at;
        pending.push({ at: at + device.ending.afterMs, device });
      },
    });
    const exposed = devices.filter((d) => d.startedAt !== undefined);
    const endOf = (d: Device) => (d.startedAt ?? 0) + d.ending.afterMs;
    const metAt = criteriaMetAt(
      exposed.map((d) => ({ at: endOf(d), failed: d.ending.outcome !== 'succeeded' })),
    );
    const before = (t: number | undefined) =>
      exposed.filter((d) => t === undefined || (d.startedAt ?? 0) < t);
    return {
      scenario,
      started: exposed.length,
      failed: exposed.filter((d) => d.ending.outcome !== 'succeeded').length,
      haltedAt,
      countsAtHalt,
      metAt,
      startedBeforeMet: metAt === undefined ? exposed.length : before(metAt).length,
      inFlightAtMet: metAt === undefined ? 0 : before(metAt).filter((d) => endOf(d) > metAt).length,
      startedAfterHalt:
        haltedAt === undefined
          ? 0
          : exposed.filter((d) => (d.startedAt ?? 0) >= (haltedAt ?? 0)).length,
      reads,
      polls: fleet.polls,
      realMs: performance.now() - started,
    };
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** When the finished outcomes, in the order they ended, first meet the halt criteria. Pure. */
function criteriaMetAt(ends: readonly { at: number; failed: boolean }[]): number | undefined {
  let tried = 0;
  let failed = 0;
  for (const end of [...ends].sort((a, b) => a.at - b.at)) {
    tried += 1;
    if (end.failed) failed += 1;
    if (meetsHalt(HALT, { tried, failed })) return end.at;
  }
  return undefined;
}

const minutes = (ms: number | undefined) =>
  ms === undefined ? '-' : `${(ms / 60_000).toFixed(1)} min`;

const begun = performance.now();
const results: Result[] = [];
try {
  for (const scenario of SCENARIOS) results.push(await run(scenario));
} catch (err) {
  console.error('bench failed:', err);
  process.exitCode = 1;
}
const head = [
  'rollout',
  'started it',
  'of them failed',
  'criteria met at',
  'started by then',
  'in flight then',
  'halt recorded at',
  'reason recorded',
  'started after',
  'central reads',
  'polls',
  'real',
];
const cells = results.map((r) => [
  r.scenario.name,
  `${r.started}/${DEVICES}`,
  String(r.failed),
  minutes(r.metAt),
  r.metAt === undefined ? '-' : String(r.startedBeforeMet),
  r.metAt === undefined ? '-' : String(r.inFlightAtMet),
  minutes(r.haltedAt),
  r.countsAtHalt ?? '-',
  r.haltedAt === undefined ? '-' : String(r.startedAfterHalt),
  String(r.reads),
  String(r.polls),
  `${(r.realMs / 1000).toFixed(1)} s`,
]);
const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
const line = (c: string[]) =>
  c.map((s, i) => (i === 0 ? s.padEnd(widths[i] ?? 0) : s.padStart(widths[i] ?? 0))).join('  ');
console.log(line(head));
console.log('-'.repeat(line(head).length));
for (const c of cells) console.log(line(c));
console.log(
  `method: ${DEVICES} devices, v${RELEASE} fails on ${FAIL_PERCENT} % of them (half in the health gate after ` +
    `${FAILS_HEALTH_AFTER_MS / 1000} s, half rolled back in the watch window after ${ROLLS_BACK_AFTER_MS / 1000} s; ` +
    `a good switch ends after ${SUCCEEDS_AFTER_MS / 1000} s); ` +
    `halt ${JSON.stringify(HALT)}; polls every ${INTERVAL_MS / 1000} s ± ${JITTER * 100} %, random start, ` +
    `${UNTIL_MS / 60_000} min of virtual time; one SQLite central database; an outcome reaches it when the switch ends.`,
);
console.log(
  'criteria met at: when the outcomes that had ended first met them; a device reads the outcomes only ' +
    'when it is about to start the release, so the halt is recorded by the first such device after that ' +
    '(halt recorded at). started after: devices that started it after the halt was recorded (must be 0). ' +
    'central reads: polls that read the central database (devices that would start it otherwise).',
);
console.log(`total runtime: ${((performance.now() - begun) / 1000).toFixed(1)} s`);

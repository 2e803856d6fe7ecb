// Agent idle memory over a long soak, side by side with the agent of another commit in the
// same run: both real agents (node with the flags of their own Dockerfile.agent CMD) follow
// one git server on loopback holding this repository's app and 10,000 old tags, poll every
// 10 s and run the app on the real Docker engine, each with its own state directory, app
// network (its instance name: neither lists or touches the other's containers) and volume.
// Prints RSS and V8 heap used at the start and every few minutes, and the least-squares slope.
// Usage: npm run build && npm run bench:soak -- [minutes, default 60] [--every=10 (minutes)]
//          [--tags=10000] [--baseline=<git rev>, default: where this branch left main]
//          [--also="<node flags>"]...: one more agent per --also, this tree's build with other flags
//          ("" for none), to tell the effect of the code from that of each flag; NAME=value
//          words in it are environment variables for that agent (--also="MALLOC_ARENA_MAX=2")
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, REPO_ROOT } from '../test/helpers/docker-cli.js';
import { GitHttpServer } from '../test/helpers/git-http-server.js';
import { TestRepo } from '../test/helpers/git-repo.js';
import { type AgentBuild, buildAtRevision, currentBuild } from './lib/agent-build.js';
import { AgentProcess, type MemorySample, slope, until } from './lib/agent-process.js';

const option = (name: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const flag = (name: string, fallback: string) => option(name) ?? fallback;
const alsoFlags = process.argv.filter((a) => a.startsWith('--also=')).map((a) => a.slice(7));
const minutes = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 60);
const everyMin = Number(flag('every', '10'));
const tagCount = Number(flag('tags', '10000'));
const baselineRev =
  flag('baseline', '') ||
  execFileSync('git', ['-C', REPO_ROOT, 'merge-base', 'HEAD', 'main']).toString().trim();
const SAMPLE_MS = 30_000; // the slope is fitted to a sample every 30 s, not only the printed rows
const TICKS_PER_SECOND = 100; // Linux USER_HZ
const MB = 1024 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'bench-soak-'));
const server = new GitHttpServer({ root: join(dir, 'srv'), token: 'bench-token' });
const agents: AgentProcess[] = [];
const names: string[] = [];

function agentFor(build: AgentBuild, name: string): AgentProcess {
  names.push(name);
  return new AgentProcess(build.label, build.mainJs, build.nodeArgs, {
    PATH: process.env.PATH ?? '',
    OTA_REPO_URL: server.url('weather'),
    OTA_REPO_TOKEN: 'bench-token',
    OTA_STATE_DIR: join(dir, name),
    OTA_CHECKOUT_GIT_CONFIG: '/nonexistent',
    OTA_POLL_INTERVAL: '10s',
    OTA_PLATFORM: 'linux/amd64',
    OTA_BUILD_ARGS: `NODE_IMAGE=${process.env.OTA_NODE_IMAGE},NODE_BUILD_IMAGE=${process.env.OTA_NODE_BUILD_IMAGE}`,
    OTA_WATCH_WINDOW: '0s',
    OTA_MIN_FREE_MB: '100',
    OTA_APP_NETWORK: name,
    OTA_APP_VOLUME: `${name}-data`,
    WEATHER_INTERVAL_MS: '1000',
    OTA_LOG_LEVEL: 'debug', // for the 'polled' events counted below
    ...build.env,
  });
}

const mb = (bytes: number | undefined) =>
  bytes === undefined ? '   n/a' : (bytes / MB).toFixed(1);
const cell = (s: MemorySample) => `${mb(s.rssKb * 1024).padStart(6)} ${mb(s.heapUsed).padStart(6)}`;

try {
  await server.start();
  const repo = await TestRepo.create(dir, join(dir, 'srv'), 'weather');
  repo.copyApp(REPO_ROOT);
  await repo.commit('app');
  await repo.tagMany(
    Array.from({ length: tagCount }, (_, i) => `v0.${Math.floor(i / 100)}.${i % 100}`),
  );
  await repo.tag('v1.0.0');
  const current = currentBuild(REPO_ROOT);
  const builds: AgentBuild[] = [
    current,
    await buildAtRevision(REPO_ROOT, baselineRev, join(dir, 'baseline')),
  ];
  for (const also of alsoFlags) {
    const words = also.split(' ').filter(Boolean);
    const isEnv = (w: string) => /^[A-Z_][A-Z0-9_]*=/.test(w);
    const nodeArgs = words.filter((w) => !isEnv(w));
    const env = Object.fromEntries(words.filter(isEnv).map((w) => w.split(/=(.*)/s).slice(0, 2)));
    builds.push({
      ...current,
      label: `this tree, ${words.join(' ') || 'no flags'}`,
      nodeArgs,
      env,
    });
  }
  const id = randomUUID().slice(0, 8);
  // Both at once, as two devices would boot: each lists the tags, builds the app image (the
  // engine's layer cache serves the second) and starts it on its own network.
  const booted = Date.now();
  for (const [i, build] of builds.entries()) {
    const agent = agentFor(build, `ota-soak-${i}-${id}`);
    agents.push(agent);
    agent.start();
  }
  await until('both agents running 1.0.0', 1_800_000, () =>
    agents.every((a) => a.at('switched') !== undefined),
  );

  const started = Date.now();
  const first = await Promise.all(agents.map((a) => a.sample()));
  const series: MemorySample[][] = agents.map(() => []);
  const header = agents.map((_, i) => `agent ${i}`.padStart(13)).join('  ');
  console.log(
    `agent soak: ${minutes} min idle, ${tagCount.toLocaleString('en')} old tags, poll every 10 s, app running`,
  );
  for (const [i, b] of builds.entries()) {
    console.log(
      `  agent ${i}, ${b.label}: ${Object.entries(b.env ?? {})
        .map(([k, v]) => `${k}=${v} `)
        .join('')}node ${[...b.nodeArgs, b.mainJs].join(' ')} (${names[i]})`,
    );
    const up = ((agents[i]?.at('switched') ?? Number.NaN) - booted) / 1000;
    console.log(
      `    1.0.0 running ${up.toFixed(0)} s after its start (listing the tags, the build)`,
    );
  }
  console.log(`  minute  ${header}   (each: RSS MB, heap used MB)`);
  const row = (minute: number, samples: MemorySample[]) =>
    console.log(`  ${String(minute).padStart(6)}  ${samples.map(cell).join('  ')}`);
  row(0, first);
  let nextRow = everyMin;
  for (let t = SAMPLE_MS; t <= minutes * 60_000; t += SAMPLE_MS) {
    await new Promise((r) => setTimeout(r, started + t - Date.now()));
    const samples = await Promise.all(agents.map((a) => a.sample()));
    for (const [i, s] of samples.entries()) series[i]?.push(s);
    if (t >= nextRow * 60_000) {
      row(nextRow, samples);
      nextRow += everyMin;
    }
  }

  const seconds = (Date.now() - started) / 1000;
  console.log('  summary (slope: least squares over a sample every 30 s, MB per hour):');
  for (const [i, agent] of agents.entries()) {
    const s = series[i] ?? [];
    const last = s.at(-1) ?? (first[i] as MemorySample);
    const hours = (k: number) => (k + 1) * (SAMPLE_MS / 3_600_000);
    const rss = s.map((x, k) => [hours(k), (x.rssKb * 1024) / MB] as const);
    const heap = s.flatMap((x, k) => (x.heapUsed ? [[hours(k), x.heapUsed / MB] as const] : []));
    const cpu = ((last.cpuTicks - (first[i]?.cpuTicks ?? 0)) / TICKS_PER_SECOND / seconds) * 100;
    const rssValues = rss.map(([, y]) => y);
    console.log(
      `  agent ${i}: RSS min ${Math.min(...rssValues).toFixed(1)} max ${Math.max(...rssValues).toFixed(1)} end ${mb(last.rssKb * 1024)} MB, slope ${slope(rss).toFixed(2)} MB/h; heap used slope ${slope(heap).toFixed(2)} MB/h; CPU ${cpu.toFixed(2)} %; ${agent.count('polled', started)} polls`,
    );
  }
} finally {
  await Promise.all(agents.map((a) => a.stop()));
  for (const name of names) {
    const leftovers = await docker(['ps', '-aq', '--filter', `network=${name}`]).catch(() => '');
    for (const c of leftovers.split('\n').filter(Boolean))
      await docker(['rm', '-f', c]).catch(() => undefined);
    await docker(['network', 'rm', name]).catch(() => undefined);
    await docker(['volume', 'rm', '-f', `${name}-data`]).catch(() => undefined);
  }
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

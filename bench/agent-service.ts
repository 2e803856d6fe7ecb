// The agent as a service, measured: idle memory (RSS) and CPU over some minutes of polling,
// and the time from pushing a tag to the new version being healthy, split into its phases.
// Runs the real agent (dist/agent/main.js) against a git server on loopback holding a copy
// of this repository's app, on the real Docker engine, with the node flags of Dockerfile.agent.
// Usage: npm run build && node dist/bench/agent-service.js [idle seconds, default 180]
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, REPO_ROOT } from '../test/helpers/docker-cli.js';
import { GitHttpServer } from '../test/helpers/git-http-server.js';
import { TestRepo } from '../test/helpers/git-repo.js';
import { currentBuild } from './lib/agent-build.js';

const idleSeconds = Number(process.argv[2] ?? 180);
const TICKS_PER_SECOND = 100; // Linux USER_HZ
const id = randomUUID().slice(0, 8);
const network = `ota-bench-net-${id}`;
const volume = `ota-bench-data-${id}`;
const dir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
const events: { msg: string; time: number; version?: string }[] = [];

function sample(pid: number): { rssKb: number; cpuTicks: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return {
    rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0),
    cpuTicks: Number(stat[11]) + Number(stat[12]), // utime + stime
  };
}

async function until(what: string, timeoutMs: number, check: () => boolean) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
const at = (msg: string, version: string) =>
  events.find((e) => e.msg === msg && e.version === version)?.time;

const server = new GitHttpServer({ root: join(dir, 'srv'), token: 'bench-token' });
let agent: ChildProcess | undefined;
try {
  await server.start();
  const repo = await TestRepo.create(dir, join(dir, 'srv'), 'weather');
  repo.copyApp(REPO_ROOT);
  // A realistic history: 1,000 old tags, then the release the device runs.
  await repo.commit('app');
  await repo.tagMany(Array.from({ length: 1000 }, (_, i) => `v0.${Math.floor(i / 20)}.${i % 20}`));
  await repo.tag('v1.0.0');

  const build = currentBuild(REPO_ROOT);
  agent = spawn(process.execPath, [...build.nodeArgs, build.mainJs], {
    env: {
      PATH: process.env.PATH ?? '',
      OTA_REPO_URL: server.url('weather'),
      OTA_REPO_TOKEN: 'bench-token',
      OTA_STATE_DIR: join(dir, 'state'),
      OTA_CHECKOUT_GIT_CONFIG: '/nonexistent',
      OTA_POLL_INTERVAL: '10s',
      OTA_PLATFORM: 'linux/amd64',
      OTA_BUILD_ARGS: `NODE_IMAGE=${process.env.OTA_NODE_IMAGE},NODE_BUILD_IMAGE=${process.env.OTA_NODE_BUILD_IMAGE}`,
      OTA_WATCH_WINDOW: '0s',
      OTA_MIN_FREE_MB: '100',
      OTA_APP_NETWORK: network,
      OTA_APP_VOLUME: volume,
      WEATHER_INTERVAL_MS: '1000',
      OTA_LOG_LEVEL: 'debug', // for the 'polled' events counted below
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buffer = '';
  agent.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        const e = JSON.parse(line);
        events.push({ msg: e.msg, time: Date.parse(e.time), version: e.version });
      } catch {
        // not a log event
      }
    }
  });
  const pid = agent.pid as number;
  await until('1.0.0 deployed', 600_000, () => at('switched', '1.0.0') !== undefined);

  // Idle: nothing new to deploy, the agent polls every 10 s.
  const first = sample(pid);
  const rss: number[] = [];
  const started = Date.now();
  while (Date.now() - started < idleSeconds * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    rss.push(sample(pid).rssKb);
  }
  const last = sample(pid);
  const cpuPct = ((last.cpuTicks - first.cpuTicks) / TICKS_PER_SECOND / idleSeconds) * 100;
  const polls = events.filter((e) => e.time >= started && e.msg === 'polled').length;

  // One update, timed from the push.
  const pushed = Date.now();
  await repo.commit('1.1.0', { 'app/release.txt': '1.1.0\n' });
  await repo.tag('v1.1.0');
  await until('1.1.0 healthy', 600_000, () => at('healthy', '1.1.0') !== undefined);
  const t = (msg: string) => at(msg, '1.1.0') ?? Number.NaN;
  const phases: [string, number][] = [
    ['detect (push -> poll finds the tag)', t('detected') - pushed],
    ['fetch (shallow tag + archive)', t('building image') - t('fetching')],
    ['build (docker build, layer cache warm)', t('image built') - t('building image')],
    ['start (create + start next to old)', t('container started') - t('starting')],
    ['health (started -> the health gate passes)', t('healthy') - t('container started')],
    ['total (push -> healthy)', t('healthy') - pushed],
  ];

  const mb = (kb: number) => (kb / 1024).toFixed(1);
  console.log(
    `agent idle over ${idleSeconds} s, polling every 10 s (${polls} polls), 1,000 old tags, log level debug:`,
  );
  console.log(`  node ${build.nodeArgs.join(' ')} (the flags of Dockerfile.agent's CMD)`);
  console.log(
    `  RSS: min ${mb(Math.min(...rss))} MB, max ${mb(Math.max(...rss))} MB, end ${mb(last.rssKb)} MB`,
  );
  console.log(`  CPU: ${cpuPct.toFixed(2)} % of one core on average`);
  console.log(
    'time from pushing a tag to the new version being healthy (weather app, x86, poll every 10 s):',
  );
  for (const [name, ms] of phases)
    console.log(`  ${name.padEnd(44)} ${(ms / 1000).toFixed(1).padStart(6)} s`);
  console.log(
    "  note: detect is bounded by the poll interval; health is the app's own check, run by the agent.",
  );
} finally {
  agent?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1000));
  const leftovers = await docker(['ps', '-aq', '--filter', `network=${network}`]).catch(() => '');
  for (const c of leftovers.split('\n').filter(Boolean))
    await docker(['rm', '-f', c]).catch(() => undefined);
  await docker(['network', 'rm', network]).catch(() => undefined);
  await docker(['volume', 'rm', '-f', volume]).catch(() => undefined);
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

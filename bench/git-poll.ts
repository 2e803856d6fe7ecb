// Prints what the agent's release poll costs on the wire next to a plain `git ls-remote --tags`,
// and what fetching one new tag shallowly costs next to a full clone, at 10 / 1,000 / 10,000
// tags, against git's own http-backend on 127.0.0.1 with a token.
// Usage: npm run build && npm run bench:git
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseVersion } from '../agent/release/version.js';
import { GitHttpServer } from '../test/helpers/git-http-server.js';
import { TestRepo } from '../test/helpers/git-repo.js';
import { makeWatcher } from '../test/helpers/release-fixture.js';

const run = promisify(execFile);
const TOKEN = 'ghp_BENCHTOKEN0123456789abcdefSECRET';
const SIZES = [10, 1_000, 10_000];
/** Commits before the tags, so a full clone carries a real history, not one commit. */
const HISTORY = 200;
const GOAL = { requests: 2, bytes: 2048 };
const none = new Set<string>();

interface Row {
  tags: number;
  what: string;
  requests: number;
  unauthorized: number;
  bytes: number;
  ms: number;
}

/** Release-ordered versions: 20 patches per minor, 25 minors per major; the last is highest. */
function versions(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    return `v${Math.floor(i / 500)}.${Math.floor(i / 20) % 25}.${i % 20}`;
  });
}

/** Plain git, isolated from the user's config; extra config goes through GIT_CONFIG_COUNT. */
function plainEnv(
  home: string,
  config: Record<string, string>,
  extra: Record<string, string> = {},
) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_COUNT: String(Object.keys(config).length),
    ...extra,
  };
  Object.entries(config).forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

/** Counts one operation alone: earlier connections are flushed and counted before the reset. */
async function measure(server: GitHttpServer, op: () => Promise<unknown>) {
  await server.traffic();
  server.reset();
  const start = performance.now();
  await op();
  const ms = performance.now() - start;
  return { ...(await server.traffic()), ms };
}

async function benchSize(n: number): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-git-'));
  const root = join(dir, 'srv');
  const server = new GitHttpServer({ root, token: TOKEN });
  try {
    await server.start();
    const url = server.url('app');
    const repo = await TestRepo.create(dir, root, 'app');
    for (let i = 0; i < HISTORY; i++) {
      const lines = Array.from({ length: 40 }, (_, j) => {
        return `export const v${j} = ${(i * 7919 + j * 104_729) % 1_000_003}; // rev ${i}`;
      });
      await repo.commit(`change ${i}`, { [`src/module-${i % 20}.ts`]: `${lines.join('\n')}\n` });
    }
    await repo.push();
    const names = versions(n);
    const newest = names.at(-1) ?? 'v0.0.0';
    await repo.tagMany(names.slice(0, -1));
    await repo.tag(newest); // annotated, like a real release
    const current = parseVersion(newest);
    if (!current) throw new Error(`not a version: ${newest}`);
    const rows: Row[] = [];
    const add = (what: string, t: Omit<Row, 'tags' | 'what'>) => rows.push({ tags: n, what, ...t });

    const { source, watcher } = makeWatcher({ url, stateDir: join(dir, 'state'), token: TOKEN });
    const poll = async (expect: string | undefined) => {
      const result = await watcher.poll(current, none);
      // Guards that the figures are for the operation named in the table and nothing else.
      if (result.error) throw new Error(`poll failed: ${result.error.message}`);
      if (result.mode !== 'prefixes' || result.target?.tag !== expect) {
        throw new Error(`unexpected poll: ${result.mode} -> ${result.target?.tag}`);
      }
    };
    const warmup = await watcher.poll(current, none); // the first poll is always a full sweep
    if (warmup.mode !== 'sweep' || warmup.error) throw new Error('warm-up sweep failed');
    // As on a device: the running release was fetched (shallow) when it was deployed, so the
    // next release's history is fetched incrementally above it.
    await source.fetchTag(current.tag);
    add('agent prefix poll, nothing new', await measure(server, () => poll(undefined)));

    const basic = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
    const withHeader = plainEnv(dir, {
      'protocol.version': '2',
      'http.extraHeader': `Authorization: Basic ${basic}`,
    });
    const lsRemote = (env: NodeJS.ProcessEnv) =>
      run('git', ['ls-remote', '--tags', url], { cwd: dir, env, maxBuffer: 64 << 20 });
    add('git ls-remote --tags, token header', await measure(server, () => lsRemote(withHeader)));

    // git's default: no credentials up front, a 401, then ask (here GIT_ASKPASS) and retry.
    const askpass = join(dir, 'askpass.sh');
    writeFileSync(
      askpass,
      '#!/bin/sh\ncase "$1" in Username*) echo x-access-token ;; *) echo "$BENCH_TOKEN" ;; esac\n',
    );
    chmodSync(askpass, 0o700);
    const viaAskpass = plainEnv(
      dir,
      { 'protocol.version': '2' },
      { GIT_ASKPASS: askpass, BENCH_TOKEN: TOKEN },
    );
    add('git ls-remote --tags, 401 + askpass', await measure(server, () => lsRemote(viaAskpass)));

    // A new patch release: a new commit with a few files and an annotated tag.
    const next = `v${current.major}.${current.minor}.${current.patch + 1}`;
    await repo.commit(`release ${next}`, {
      'src/feature.ts': 'export const feature = () => "new";\n',
      'CHANGELOG.md': `## ${next}\n\n- new feature\n`,
      'config/defaults.json': '{ "interval": 60 }\n',
    });
    await repo.push();
    await repo.tag(next);
    // A prefix poll that matches a new tag fetches it (only what is missing above the running
    // release); fetchTag then finds it local and makes no request.
    const found = await measure(server, () => poll(next));
    add('agent prefix poll, finds new tag', found);
    const fetched = await measure(server, () => source.fetchTag(next));
    add('agent fetchTag (already local)', fetched);
    add('agent poll + fetchTag', {
      requests: found.requests + fetched.requests,
      unauthorized: found.unauthorized + fetched.unauthorized,
      bytes: found.bytes + fetched.bytes,
      ms: found.ms + fetched.ms,
    });
    const clone = () =>
      run('git', ['clone', '--bare', '--quiet', url, join(dir, 'full.git')], {
        cwd: dir,
        env: withHeader,
      });
    add('git clone --bare (full), token header', await measure(server, clone));
    return rows;
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const size = (b: number) => (b < 1024 ? `${b} B` : `${(b / 1024).toFixed(1)} KB`);

function print(rows: Row[]): void {
  const head = ['tags', 'operation', 'requests', '401s', 'bytes', 'ms'];
  const cells = rows.map((r) => [
    r.tags.toLocaleString('en-US'),
    r.what,
    String(r.requests),
    String(r.unauthorized),
    size(r.bytes),
    r.ms.toFixed(0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  // Text columns left-aligned, numbers right-aligned.
  const line = (c: string[]) =>
    c.map((s, i) => (i < 2 ? s.padEnd(widths[i] ?? 0) : s.padStart(widths[i] ?? 0))).join('  ');
  const rule = '-'.repeat(line(head).length);
  console.log(line(head));
  cells.forEach((c, i) => {
    if (i === 0 || rows[i - 1]?.tags !== rows[i]?.tags) console.log(rule);
    console.log(line(c));
  });
  console.log(rule);
}

const started = performance.now();
const rows: Row[] = [];
try {
  for (const n of SIZES) rows.push(...(await benchSize(n)));
} catch (err) {
  console.error('bench failed:', err);
  process.exitCode = 1;
}
if (rows.length > 0) {
  print(rows);
  console.log(
    'bytes: TCP payload both directions, HTTP request and response headers included (not response bodies only).',
  );
  const at = rows.find((r) => r.tags === 10_000 && r.what.startsWith('agent prefix poll, nothing'));
  const met = at && at.requests <= GOAL.requests && at.bytes < GOAL.bytes;
  const got = at ? `${at.requests} requests, ${at.bytes} B` : 'not measured';
  console.log(
    `goal (agent poll at 10,000 tags: <= ${GOAL.requests} requests, < 2 KB = ${GOAL.bytes} B): ` +
      `${met ? 'MET' : 'NOT MET'} (${got})`,
  );
}
console.log(`total runtime: ${((performance.now() - started) / 1000).toFixed(1)} s`);

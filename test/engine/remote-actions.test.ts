import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import knex, { type Knex } from 'knex';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatActions } from '../../agent/cli/format-actions.js';
import type { RemoteAction } from '../../agent/release/remote-actions.js';
import { parseActions } from '../../agent/release/remote-actions.js';
import { CentralReporter } from '../../agent/report/central-reporter.js';
import { loadAppConfig } from '../../app/config.js';
import { knexConfig } from '../../app/store/knex-config.js';
import {
  type ActionAgentSetup,
  buildLabelledFixture,
  makeActionAgent,
} from '../helpers/action-agent.js';
import { captureLog } from '../helpers/capture-log.js';
import { cleanupManaged } from '../helpers/deploy-fixture.js';
import { docker } from '../helpers/docker-cli.js';
import { GitHttpServer } from '../helpers/git-http-server.js';
import { TestRepo } from '../helpers/git-repo.js';
import { TestPostgres } from '../helpers/postgres.js';
import { tempDir, tempDirForSuite } from '../helpers/temp-dir.js';

// Remote actions end to end: the policy on a real git server (token required), a whole agent
// on the real engine with the fixture app, results copied to a real PostgreSQL. The agent is
// "restarted" as the kill-matrix test does: its work is cut at a point, its state file is
// closed and a new agent opens it.

class Killed extends Error {}

async function until(check: () => Promise<boolean>, what: string, ms = 120_000) {
  const end = performance.now() + ms;
  while (!(await check().catch(() => false))) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const DEVICE = 'pi-act';
const run = randomUUID().slice(0, 8);
const repository = `ota-test/remote-actions-${run}`;
const token = `tok-${randomUUID()}`;

describe('remote actions from the policy on a real git server, on the real engine', () => {
  const root = tempDirForSuite('ota-actions-git-');
  const work = tempDirForSuite('ota-actions-work-');
  let pg: TestPostgres;
  let server: GitHttpServer;
  let repo: TestRepo;
  let central: Knex;
  let engine: Docker | undefined;
  let names = { network: '', volume: '' };
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    await buildLabelledFixture(repository, '1.0.0', 'healthy');
    await buildLabelledFixture(repository, '1.1.0', 'healthy');
    pg = await TestPostgres.start();
    server = new GitHttpServer({ root, token });
    await server.start();
    repo = await TestRepo.create(work, root, 'app');
    await repo.push();
    central = knex(knexConfig(loadAppConfig(pg.env).db));
  }, 900_000);

  afterAll(async () => {
    await central?.destroy();
    await server?.stop();
    await pg?.destroy();
    await docker(['image', 'rm', '-f', `${repository}:1.0.0`, `${repository}:1.1.0`]).catch(
      () => undefined,
    );
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
    if (engine) await cleanupManaged(engine, names);
  });

  /** A new agent on the device's state directory (a restart of the agent). */
  async function agentOf(stateDir: string, extra: Partial<ActionAgentSetup> = {}) {
    const reporter = new CentralReporter(
      knex(knexConfig(loadAppConfig(pg.env).db)),
      DEVICE,
      captureLog().log,
    );
    const made = await makeActionAgent({
      stateDir,
      names,
      repository,
      repoUrl: server.url('app'),
      token,
      deviceId: DEVICE,
      groups: ['lab'],
      reporter,
      appEnv: { FIXTURE_SAY: `the token is ${token}` },
      ...extra,
    });
    engine = made.docker;
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await made.agent.stop();
      await made.state.close();
      await reporter.close();
    };
    closers.push(stop);
    /** Waits until everything queued before now ran (the queue is one at a time). */
    const drained = () => made.agent.retry('0.0.1');
    return { ...made, stop, drained };
  }

  const centralRows = async () =>
    (await central('ota_actions').where({ device_id: DEVICE }).orderBy('action_id')) as {
      action_id: string;
      action: string;
      outcome: string | null;
      detail: string | null;
    }[];

  it('each action runs once, survives agent restarts (also between started and finished), and its result is in the central database', async () => {
    const id = randomUUID().slice(0, 8);
    names = { network: `ota-test-net-${id}`, volume: `ota-test-data-${id}` };
    const stateDir = tempDir();
    await repo.setPolicy(
      JSON.stringify({
        actions: [
          { id: 'restart-1', do: 'restart-app', devices: [DEVICE] },
          { id: 'check-1', do: 'health-check', groups: ['lab'] },
          { id: 'diag-1', do: 'diagnostics', devices: [DEVICE] },
          { id: 'not-here', do: 'restart-app', devices: ['pi-other'], groups: ['site-z'] },
        ],
      }),
    );
    const a = await agentOf(stateDir);
    const image = `${repository}:1.0.0`;
    await a.deployer.switchTo({ version: '1.0.0', commit: 'commit-1.0.0', image }, 'switch', false);
    const startedAt = async () => (await a.deployer.running())?.startedAt;
    const deployed = await startedAt();
    a.log.info({ token }, 'a log event carrying the token in a field'); // redacted by path

    await a.start();
    const finished = async (agent: typeof a) =>
      (await agent.state.actions.list()).filter((x) => x.state !== 'started');
    await until(async () => (await finished(a)).length === 3, 'three actions to finish');
    const done = await a.state.actions.list();
    expect(done.map((x) => [x.id, x.kind, x.state]).sort()).toEqual([
      ['check-1', 'health-check', 'succeeded'],
      ['diag-1', 'diagnostics', 'succeeded'],
      ['restart-1', 'restart-app', 'succeeded'],
    ]);
    expect(done.find((x) => x.id === 'restart-1')?.detail).toBe('1.0.0 restarted, healthy');
    expect(done.find((x) => x.id === 'check-1')?.detail).toBe('1.0.0 healthy');
    const restarted = await startedAt();
    expect(restarted).not.toBe(deployed);

    // The diagnostics bundle: status, both logs, disk, memory, and no token anywhere.
    const text = done.find((x) => x.id === 'diag-1')?.detail ?? '';
    const bundle = JSON.parse(text);
    expect(bundle.status).toMatchObject({ deviceId: DEVICE, running: { version: '1.0.0' } });
    expect(bundle.appLog.filter((l: string) => l.includes('fixture started'))).toHaveLength(2);
    expect(bundle.appLog.some((l: string) => l.includes('the token is [redacted]'))).toBe(true);
    expect(bundle.agentLog.length).toBeGreaterThan(0);
    expect(bundle.agentLog.length).toBeLessThanOrEqual(200);
    expect(bundle.agentLog.some((l: string) => l.includes('"action":"restart-1"'))).toBe(true);
    expect(bundle.disk.state.total).toBeGreaterThan(0);
    expect(bundle.disk.state.free).toBeGreaterThan(0);
    expect(bundle.memory.os.total).toBeGreaterThan(0);
    expect(bundle.memory.process.rss).toBeGreaterThan(0);
    expect(a.ring.tail().join('\n')).not.toContain(token);
    expect(text).not.toContain(token);

    await until(
      async () => (await centralRows()).filter((r) => r.outcome !== null).length === 3,
      'the results in the central database',
    );
    const rows = await centralRows();
    expect(rows.map((r) => [r.action_id, r.action, r.outcome])).toEqual([
      ['check-1', 'health-check', 'succeeded'],
      ['diag-1', 'diagnostics', 'succeeded'],
      ['restart-1', 'restart-app', 'succeeded'],
    ]);
    expect(rows.find((r) => r.action_id === 'diag-1')?.detail).toBe(text);

    // Restart: a new agent on the same state polls the same policy and runs nothing again.
    await a.stop();
    const b = await agentOf(stateDir);
    await b.start();
    expect((await b.agent.check()).ok).toBe(true);
    await b.drained();
    expect(await startedAt()).toBe(restarted);
    expect((await b.state.actions.list()).map((x) => x.state)).toEqual(done.map((x) => x.state));
    expect(await centralRows()).toHaveLength(3);

    // A new action; the agent is cut after restarting the app, before recording the outcome.
    await repo.setPolicy(
      JSON.stringify({
        actions: [
          { id: 'restart-1', do: 'restart-app', devices: [DEVICE] },
          { id: 'restart-2', do: 'restart-app', groups: ['lab'] },
        ],
      }),
    );
    await b.stop();
    const c = await agentOf(stateDir, {
      beforePoint: (point, action) => {
        if (point === 'record' && action.id === 'restart-2') throw new Killed('cut');
      },
    });
    await c.start();
    await c.agent.check();
    await c.drained();
    const [cut] = await c.state.actions.list(1);
    expect(cut).toMatchObject({ id: 'restart-2', state: 'started' });
    const restartedAgain = await startedAt();
    expect(restartedAgain).not.toBe(restarted);
    await c.stop();

    const d = await agentOf(stateDir);
    await d.start();
    await d.agent.check();
    await d.drained();
    expect(await startedAt()).toBe(restartedAgain); // not restarted a second time
    expect((await d.state.actions.list(1))[0]).toMatchObject({
      id: 'restart-2',
      state: 'interrupted',
    });
    // Cut before its gate, the restarted app turns healthy on its own (the engine's check).
    await until(async () => (await d.deployer.running())?.health === 'healthy', 'a healthy app');
    await until(
      async () =>
        (await centralRows()).find((r) => r.action_id === 'restart-2')?.outcome === 'interrupted',
      'the interrupted action in the central database',
    );
    const history = formatActions(await d.agent.remoteActions(10));
    console.log(`ota actions after the cut and a restart:\n${history}`);
    expect(history).toMatch(/restart-2 +restart-app +interrupted/);
    expect(history).toMatch(/diag-1 +diagnostics +succeeded +bundle of \d+ bytes/);
  }, 600_000);

  it('an action due while a deployment (and its watch) is in flight runs after it, on the new version', async () => {
    const id = randomUUID().slice(0, 8);
    names = { network: `ota-test-net-${id}`, volume: `ota-test-data-${id}` };
    const a = await agentOf(tempDir(), { deployer: { watchMs: 4_000 } });
    const image = `${repository}:1.0.0`;
    await a.deployer.switchTo({ version: '1.0.0', commit: 'commit-1.0.0', image }, 'switch', false);
    const actions: RemoteAction[] = parseActions([
      { id: 'restart-during', do: 'restart-app', devices: [DEVICE] },
    ]);
    await a.agent.onPoll({
      at: Date.now(),
      mode: 'prefixes',
      tagsReceived: 1,
      target: { version: '1.1.0', tag: 'v1.1.0', commit: 'commit-1.1.0', signer: undefined },
      excluded: [],
      error: undefined,
      actions,
    });
    await until(
      async () => (await a.state.actions.list())[0]?.state === 'succeeded',
      'the action to finish',
    );
    const [action] = await a.state.actions.list();
    expect(action?.detail).toBe('1.1.0 restarted, healthy');
    const [deployment] = await a.state.history(1);
    expect(deployment).toMatchObject({ to: '1.1.0', outcome: 'succeeded' });
    // The switch and its watch window were over before the action was recorded.
    expect(Date.parse(action?.startedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(deployment?.finishedAt ?? ''),
    );
  }, 300_000);
});

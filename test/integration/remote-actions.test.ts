import { join } from 'node:path';
import knex from 'knex';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ActionRunner, type ActionTargets } from '../../agent/actions/action-runner.js';
import type { AppContainer } from '../../agent/deploy/container-runtime.js';
import { parseActions } from '../../agent/release/remote-actions.js';
import { CentralReporter } from '../../agent/report/central-reporter.js';
import { AgentState } from '../../agent/state/agent-state.js';
import { loadAppConfig } from '../../app/config.js';
import { knexConfig } from '../../app/store/knex-config.js';
import { captureLog } from '../helpers/capture-log.js';
import { TestPostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/temp-dir.js';

// The ledger on a real SQLite state file and the report into real central databases. The
// engine side (restart, health gate, app logs) is test/engine/remote-actions.test.ts.

async function openState(dir: string) {
  const state = new AgentState(knex(AgentState.knexConfig(join(dir, 'agent.db'))));
  await state.migrate();
  onTestFinished(() => state.close().catch(() => undefined));
  return state;
}

const app = { id: 'c1', name: 'weather-1.0.0-abc', version: '1.0.0' } as AppContainer;

/** Counts what the runner asks of the engine; the gate passes unless told otherwise. */
function targets(healthy = true) {
  const calls: string[] = [];
  const t: ActionTargets = {
    running: async () => app,
    checkHealth: async (id) => {
      calls.push(`gate ${id}`);
      return healthy ? { ok: true } : { ok: false, reason: 'reported unhealthy' };
    },
    restart: async (id) => {
      calls.push(`restart ${id}`);
    },
  };
  return { t, calls };
}

class Killed extends Error {}

const actions = parseActions([
  { id: 'restart-1', do: 'restart-app', devices: ['pi-1'] },
  { id: 'check-1', do: 'health-check', groups: ['lab'] },
  { id: 'diag-1', do: 'diagnostics', devices: ['pi-1'] },
  { id: 'elsewhere', do: 'restart-app', devices: ['pi-2'] },
]);
const device = { id: 'pi-1', groups: ['lab'] };

describe('remote actions on the device', () => {
  it('run once each, in order, and never again in later polls', async () => {
    const state = await openState(tempDir());
    const { t, calls } = targets();
    const runner = new ActionRunner(
      state.actions,
      t,
      { stopTimeoutS: 1, diagnostics: async () => '{"bundle":true}' },
      captureLog().log,
    );
    const first = await runner.runDue(actions, device);
    expect(first.map((o) => [o.id, o.ok, o.detail])).toEqual([
      ['restart-1', true, '1.0.0 restarted, healthy'],
      ['check-1', true, '1.0.0 healthy'],
      ['diag-1', true, '{"bundle":true}'],
    ]);
    expect(await runner.runDue(actions, device)).toEqual([]);
    expect(calls).toEqual(['restart c1', 'gate c1', 'gate c1']);
    const listed = await state.actions.list();
    expect(listed.map((a) => [a.id, a.state])).toEqual(
      expect.arrayContaining([
        ['restart-1', 'succeeded'],
        ['check-1', 'succeeded'],
        ['diag-1', 'succeeded'],
      ]),
    );
    expect(listed).toHaveLength(3);
  });

  it('an unhealthy app fails the action (recorded), and it is not retried', async () => {
    const state = await openState(tempDir());
    const { t, calls } = targets(false);
    const runner = new ActionRunner(
      state.actions,
      t,
      { stopTimeoutS: 1, diagnostics: async () => '{}' },
      captureLog().log,
    );
    const [restart] = await runner.runDue(actions.slice(0, 1), device);
    expect(restart).toMatchObject({
      ok: false,
      detail: '1.0.0 restarted, not healthy: reported unhealthy',
    });
    expect(await runner.runDue(actions.slice(0, 1), device)).toEqual([]);
    expect(calls).toEqual(['restart c1', 'gate c1']);
  });

  for (const point of ['act', 'record'] as const) {
    it(`an agent killed ${point === 'act' ? 'after recording the intent' : 'after acting, before the outcome'} does not run it again after its restart`, async () => {
      const dir = tempDir();
      const before = await openState(dir);
      const { t, calls } = targets();
      const dying = new ActionRunner(
        before.actions,
        t,
        {
          stopTimeoutS: 1,
          diagnostics: async () => '{}',
          beforePoint: (at) => {
            if (at === point) throw new Killed(at);
          },
        },
        captureLog().log,
      );
      await expect(dying.runDue(actions.slice(0, 1), device)).rejects.toThrow(Killed);
      await before.close();

      const after = await openState(dir); // the restarted agent, same state file
      const { log, events } = captureLog();
      const runner = new ActionRunner(
        after.actions,
        t,
        { stopTimeoutS: 1, diagnostics: async () => '{}' },
        log,
      );
      await runner.recover();
      expect(await runner.runDue(actions.slice(0, 1), device)).toEqual([]);
      expect(calls).toEqual(point === 'act' ? [] : ['restart c1', 'gate c1']);
      const [row] = await after.actions.list();
      expect(row).toMatchObject({ id: 'restart-1', state: 'interrupted' });
      expect(
        events().some((e) => e.msg === 'remote action interrupted by a restart; not run again'),
      ).toBe(true);
    });
  }

  it('begin refuses an id recorded before, even from two runners at once', async () => {
    const state = await openState(tempDir());
    const results = await Promise.all([
      state.actions.begin('x-1', 'diagnostics'),
      state.actions.begin('x-1', 'diagnostics'),
    ]);
    expect(results.sort()).toEqual([false, true]);
  });
});

describe('remote actions in the central database', () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await TestPostgres.start();
  });
  afterAll(async () => {
    await pg?.destroy();
  });

  async function exercise(env: Record<string, string>) {
    const state = await openState(tempDir());
    const db = loadAppConfig(env).db;
    const reporter = new CentralReporter(knex(knexConfig(db)), 'pi-1', captureLog().log);
    onTestFinished(() => reporter.close());
    const report = async () => {
      const sent = await reporter.syncActions(await state.actions.unreported());
      for (const a of sent) await state.actions.markReported(a.id, a.state);
      return sent.map((a) => `${a.id}:${a.state}`);
    };

    expect(await state.actions.begin('diag-1', 'diagnostics')).toBe(true);
    expect(await report()).toEqual(['diag-1:started']);
    expect(await report()).toEqual([]); // nothing changed: nothing sent
    const bundle = JSON.stringify({ appLog: Array.from({ length: 200 }, (_, i) => `line ${i}`) });
    await state.actions.finish('diag-1', 'succeeded', bundle);
    expect(await report()).toEqual(['diag-1:succeeded']);

    const reader = knex(knexConfig(db));
    onTestFinished(() => reader.destroy());
    const rows = await reader('ota_actions').select();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      device_id: 'pi-1',
      action_id: 'diag-1',
      action: 'diagnostics',
      outcome: 'succeeded',
      detail: bundle,
    });
    expect(rows[0].finished_at).not.toBeNull();
  }

  it('one row per device and action, updated as it finishes, in a real SQLite file', async () => {
    await exercise({ WEATHER_DB_FILE: join(tempDir(), 'weather.db') });
  });

  it('the same in a real PostgreSQL', async () => {
    await exercise(pg.env);
  });

  it('a database that is away: nothing is marked sent, all of it goes once it is back', async () => {
    const state = await openState(tempDir());
    const reporter = new CentralReporter(
      knex(knexConfig(loadAppConfig(pg.env).db)),
      'pi-away',
      captureLog().log,
    );
    onTestFinished(() => reporter.close());
    await state.actions.begin('check-9', 'health-check');
    await state.actions.finish('check-9', 'succeeded', '1.0.0 healthy');
    await pg.pause();
    try {
      expect(await reporter.syncActions(await state.actions.unreported())).toEqual([]);
    } finally {
      await pg.resume();
    }
    const sent = await reporter.syncActions(await state.actions.unreported());
    expect(sent.map((a) => a.id)).toEqual(['check-9']);
  });
});

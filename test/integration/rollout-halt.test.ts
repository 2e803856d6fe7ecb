import { join } from 'node:path';
import knex, { type Knex } from 'knex';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  onTestFinished,
} from 'vitest';
import { checkHalts } from '../../agent/release/halt-check.js';
import { parsePolicy } from '../../agent/release/rollout-policy.js';
import { parseVersion } from '../../agent/release/version.js';
import { CentralReporter } from '../../agent/report/central-reporter.js';
import { CentralRollouts } from '../../agent/report/rollout-store.js';
import type { Deployment, Outcome } from '../../agent/state/agent-state.js';
import { loadAppConfig } from '../../app/config.js';
import { knexConfig } from '../../app/store/knex-config.js';
import { captureLog } from '../helpers/capture-log.js';
import { freePort } from '../helpers/free-port.js';
import { GitHttpServer } from '../helpers/git-http-server.js';
import { TestRepo } from '../helpers/git-repo.js';
import { TestPostgres } from '../helpers/postgres.js';
import { makeWatcher } from '../helpers/release-fixture.js';
import { tempDir } from '../helpers/temp-dir.js';

const none = new Set<string>();
const v = (text: string) => parseVersion(text) ?? (undefined as never);
const HALT = { failedPercent: 50, minDevices: 3 };

/**
 * Several devices' real release watchers poll one git http-backend and read the rollout's
 * outcomes from one real PostgreSQL, into which each device's real CentralReporter copies the
 * outcome of its switch, as the agent does after a change.
 */
describe('automatic rollout halts, against a real git server and a real PostgreSQL', () => {
  let pg: TestPostgres;
  let server: GitHttpServer;
  let repo: TestRepo;
  let dir: string;
  const clients: Knex[] = [];

  const db = (env: Record<string, string> = pg.env) => {
    const client = knex(knexConfig(loadAppConfig(env).db));
    clients.push(client);
    return client;
  };
  /** One device: its watcher (with the central database unless `central` is false) and reporter. */
  const device = (id: string, central: Knex | false = db()) => {
    const watcher = makeWatcher(
      { url: server.url('weather'), stateDir: join(dir, `state-${id}`) },
      { device: { id, groups: [] }, rollouts: central ? new CentralRollouts(central) : undefined },
    );
    const reporter = new CentralReporter(db(), id, captureLog().log);
    /** What the agent copies to the central database once its switch to `to` ended. */
    const finished = async (to: string, outcome: Outcome, reason: string | null = null) => {
      const row: Deployment = {
        id: 1,
        from: '1.0.0',
        to,
        commit: `c${to}`,
        kind: 'switch',
        startedAt: new Date().toISOString(),
        finishedAt: new Date().toISOString(),
        outcome,
        reason,
      };
      expect(await reporter.sync([row])).toBe(true);
    };
    return { ...watcher, finished };
  };

  beforeAll(async () => {
    pg = await TestPostgres.start();
  });
  afterAll(async () => {
    await pg?.destroy();
  });
  beforeEach(async () => {
    dir = tempDir('ota-halt-');
    server = new GitHttpServer({ root: join(dir, 'srv') });
    await server.start();
    repo = await TestRepo.create(dir, join(dir, 'srv'), 'weather');
    await repo.tag('v1.0.0');
    await repo.commit('1.1.0');
    await repo.tag('v1.1.0');
  });
  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((c) => c.destroy()));
    await server?.stop();
  });

  it('halts the release once enough devices failed it; later devices do not start it', async () => {
    await repo.setPolicy(JSON.stringify({ releases: { '1.1.0': { halt: HALT } } }));
    const [a, b, c, d, t] = ['pi-a', 'pi-b', 'pi-c', 'pi-d', 'pi-t'].map((id) => device(id));
    if (!a || !b || !c || !d || !t) throw new Error('devices');

    // Nothing tried yet: the first devices start it.
    const first = await a.watcher.poll(v('1.0.0'), none);
    expect(first.target?.version).toBe('1.1.0');
    expect(first.rollouts).toEqual([
      {
        version: '1.1.0',
        state: 'open',
        tried: 0,
        failed: 0,
        text: '1.1.0 rolling out: 0 of 0 devices failed (halts at 50% once 3 tried)',
      },
    ]);
    await a.finished('1.1.0', 'failed', 'not healthy within 120 s');
    expect((await b.watcher.poll(v('1.0.0'), none)).target?.version).toBe('1.1.0');
    await b.finished('1.1.0', 'succeeded');
    // A failure the device retries is not an outcome yet: it counts neither way.
    expect((await t.watcher.poll(v('1.0.0'), none)).target?.version).toBe('1.1.0');
    await t.finished('1.1.0', 'failed', 'pull failed: manifest unknown (will retry)');

    // 1 of 2 failed: below minDevices, still rolling out.
    expect((await c.watcher.poll(v('1.0.0'), none)).target?.version).toBe('1.1.0');
    await c.finished('1.1.0', 'rolled-back', 'failed in the watch window');

    // 2 of 3 failed: 67% >= 50% with 3 tried. The next device does not start it.
    const halted = await d.watcher.poll(v('1.0.0'), none);
    expect(halted.error).toBeUndefined();
    expect(halted.target).toBeUndefined();
    expect(halted.excluded).toContainEqual({
      version: '1.1.0',
      reason: '1.1.0 halted: 2 of 3 devices failed',
    });
    expect(halted.rollouts?.[0]).toMatchObject({ state: 'halted', tried: 3, failed: 2 });
    expect(
      d.events().find((e) => e.msg === 'rollout halted: no further device starts it'),
    ).toMatchObject({ level: 40, version: '1.1.0', tried: 3, failed: 2 });

    const reader = db();
    const row = await reader('ota_rollouts').where({ version: '1.1.0' }).first();
    expect(row).toMatchObject({
      tried: 3,
      failed: 2,
      halt_reason: '2 of 3 devices failed',
      updated_by: 'pi-d',
    });
    expect(row.halted_at).toBeInstanceOf(Date);
    expect(JSON.parse(row.policy)).toEqual({ percent: 100, withdrawn: false, halt: HALT });
    const haltedAt = row.halted_at.toISOString();

    // Devices already on it stay; the retrying device does not start it again either.
    expect((await b.watcher.poll(v('1.1.0'), none)).target).toBeUndefined();
    expect((await t.watcher.poll(v('1.0.0'), none)).target).toBeUndefined();

    // Successes arriving afterwards lower the share below 50%; the halt stays, first time kept.
    for (const id of ['pi-e', 'pi-f']) await device(id).finished('1.1.0', 'succeeded');
    const later = await device('pi-g').watcher.poll(v('1.0.0'), none);
    expect(later.target).toBeUndefined();
    expect(later.rollouts?.[0]).toMatchObject({ state: 'halted', tried: 5, failed: 2 });
    const after = await reader('ota_rollouts').where({ version: '1.1.0' }).first();
    expect(after).toMatchObject({ tried: 5, failed: 2, updated_by: 'pi-g' });
    expect(after.halted_at.toISOString()).toBe(haltedAt);

    // A withdrawal still moves the devices that run it back.
    await repo.setPolicy(
      JSON.stringify({ releases: { '1.1.0': { halt: HALT, withdrawn: true } } }),
    );
    expect((await b.watcher.poll(v('1.1.0'), none)).target?.version).toBe('1.0.0');

    // The fleet view shows the halt next to the outcomes.
    const fleet = await new CentralReporter(db(), 'pi-x', captureLog().log).fleet();
    expect(fleet.rollouts.find((r) => r.version === '1.1.0')).toMatchObject({
      succeeded: 3,
      failed: 2,
      rolledBack: 1,
      halt: {
        failedPercent: 50,
        minDevices: 3,
        tried: 5,
        failed: 2,
        haltedAt,
        reason: '2 of 3 devices failed',
      },
    });
  });

  it('does not start a release with halt criteria without the central database; others as before', async () => {
    await repo.setPolicy(JSON.stringify({ releases: { '1.1.0': { halt: HALT } } }));
    // Nothing listens on this port: the central database cannot be reached.
    const away = db({ ...pg.env, WEATHER_DB_PORT: String(await freePort()) });
    const cut = device('pi-cut', away);
    const result = await cut.watcher.poll(v('1.0.0'), none);
    expect(result.error).toBeUndefined();
    expect(result.target).toBeUndefined();
    expect(result.excluded).toContainEqual({
      version: '1.1.0',
      reason:
        '1.1.0 has halt criteria and the central database cannot be reached; not starting it until it can',
    });
    expect(
      cut.events().find((e) => String(e.msg).startsWith('central database unreachable')),
    ).toMatchObject({ level: 40, versions: ['1.1.0'] });

    // A device with central reporting off does not start it either.
    const off = device('pi-off', false);
    expect((await off.watcher.poll(v('1.0.0'), none)).excluded).toContainEqual({
      version: '1.1.0',
      reason:
        '1.1.0 has halt criteria and central reporting is off on this device; not starting it until it can',
    });

    // Without halt criteria, the release goes out as before, the database away or not.
    await repo.setPolicy(JSON.stringify({ releases: { '1.1.0': { percent: 100 } } }));
    const plain = await cut.watcher.poll(v('1.0.0'), none);
    expect(plain.target?.version).toBe('1.1.0');
    expect(plain.rollouts).toBeUndefined();
    expect((await off.watcher.poll(v('1.0.0'), none)).target?.version).toBe('1.1.0');
  });
});

describe('rollout outcomes in a real SQLite file', () => {
  it('counts distinct devices, leaves retried failures out, and keeps the first halt', async () => {
    const env = { WEATHER_DB_FILE: join(tempDir(), 'weather.db') };
    const clients: Knex[] = [];
    onTestFinished(async () => {
      await Promise.allSettled(clients.map((c) => c.destroy()));
    });
    const db = () => {
      const client = knex(knexConfig(loadAppConfig(env).db));
      clients.push(client);
      return client;
    };
    const switchTo = (id: number, outcome: Outcome, reason: string | null = null): Deployment => ({
      id,
      from: '1.0.0',
      to: '1.1.0',
      commit: 'c1',
      kind: 'switch',
      startedAt: new Date(Date.UTC(2026, 10, 24, 12, id)).toISOString(),
      finishedAt: new Date(Date.UTC(2026, 10, 24, 12, id, 30)).toISOString(),
      outcome,
      reason,
    });
    const { log } = captureLog();
    // pi-a failed twice (one device), pi-b retries, pi-c rolled back then succeeded.
    await new CentralReporter(db(), 'pi-a', log).sync([
      switchTo(1, 'failed', 'x'),
      switchTo(2, 'failed', 'y'),
    ]);
    await new CentralReporter(db(), 'pi-b', log).sync([
      switchTo(1, 'failed', 'network (will retry)'),
    ]);
    await new CentralReporter(db(), 'pi-c', log).sync([
      switchTo(1, 'rolled-back', 'z'),
      switchTo(2, 'succeeded'),
    ]);
    const store = new CentralRollouts(db());
    const read = await store.read(['1.1.0', '1.2.0']);
    expect(read.get('1.1.0')).toEqual({ counts: { tried: 2, failed: 2 }, recorded: undefined });
    expect(read.get('1.2.0')).toEqual({ counts: { tried: 0, failed: 0 }, recorded: undefined });

    const rule = { percent: 100, groups: undefined, withdrawn: false, halt: HALT };
    const first = new Date(Date.UTC(2026, 10, 24, 13));
    const counts = { tried: 2, failed: 2 };
    await store.record(
      [
        {
          version: '1.1.0',
          rule,
          state: { kind: 'halted', counts, haltedAt: first, reason: 'r1' },
        },
      ],
      'pi-a',
      first,
    );
    const second = new Date(Date.UTC(2026, 10, 24, 14));
    await store.record(
      [
        {
          version: '1.1.0',
          rule,
          state: { kind: 'halted', counts, haltedAt: second, reason: 'r2' },
        },
      ],
      'pi-c',
      second,
    );
    expect((await store.read(['1.1.0'])).get('1.1.0')?.recorded).toEqual({
      haltedAt: first,
      reason: 'r1',
      criteria: HALT,
    });
    const row = await db()('ota_rollouts').first();
    expect(row).toMatchObject({ version: '1.1.0', updated_by: 'pi-c', halt_reason: 'r1' });

    // The policy changes the criteria: the halt is judged afresh on the same counts (2 of 2
    // failed, but now 5 devices must have tried it) and the row's halt is cleared...
    const withHalt = (halt: unknown) =>
      parsePolicy(JSON.stringify({ releases: { '1.1.0': { halt } } }));
    const third = new Date(Date.UTC(2026, 10, 24, 15));
    const relaxed = await checkHalts(
      store,
      withHalt({ failedPercent: 50, minDevices: 5 }),
      ['1.1.0'],
      { deviceId: 'pi-d', now: third },
      log,
    );
    expect(relaxed.get('1.1.0')).toEqual({ kind: 'open', counts: { tried: 2, failed: 2 } });
    expect(await db()('ota_rollouts').first()).toMatchObject({
      halted_at: null,
      halt_reason: null,
      updated_by: 'pi-d',
    });
    // ... and criteria the counts meet halt it anew, from now; unchanged criteria keep that.
    const fourth = new Date(Date.UTC(2026, 10, 24, 16));
    const strict = { failedPercent: 50, minDevices: 2 };
    const halted = await checkHalts(
      store,
      withHalt(strict),
      ['1.1.0'],
      { deviceId: 'pi-e', now: fourth },
      log,
    );
    expect(halted.get('1.1.0')).toMatchObject({ kind: 'halted', haltedAt: fourth });
    const later = new Date(Date.UTC(2026, 10, 24, 17));
    const kept = await checkHalts(
      store,
      withHalt(strict),
      ['1.1.0'],
      { deviceId: 'pi-f', now: later },
      log,
    );
    expect(kept.get('1.1.0')).toMatchObject({ kind: 'halted', haltedAt: fourth });
  });
});

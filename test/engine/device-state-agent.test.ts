import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import knex from 'knex';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PollResult } from '../../agent/release/release-watcher.js';
import { CentralReporter } from '../../agent/report/central-reporter.js';
import {
  AGENT_FIXTURE_REPO,
  agentTarget,
  buildAgentFixture,
  makeAgent,
} from '../helpers/agent-fixture.js';
import { captureLog } from '../helpers/capture-log.js';
import { cleanupManaged } from '../helpers/deploy-fixture.js';
import { canDropPackets, silentDatabase } from '../helpers/silent-database.js';
import { tempDir } from '../helpers/temp-dir.js';

const poll = (version: string): PollResult => ({
  at: Date.now(),
  mode: 'prefixes',
  tagsReceived: 1,
  target: agentTarget(version),
  excluded: [],
  error: undefined,
});

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 60_000) {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the agent decides from its record, not from snapshots or windows of history', () => {
  let names: { network: string; volume: string };
  let engine: Docker | undefined;
  const closers: (() => Promise<unknown>)[] = [];

  // Retention (updater.prune) removes app images that never ran: build them again per test
  // (from the build cache, seconds).
  beforeEach(async () => {
    await Promise.all([
      buildAgentFixture('1.0.0', 'healthy'),
      buildAgentFixture('1.1.0', 'healthy'),
      buildAgentFixture('3.0.0', 'crash'),
    ]);
  });

  afterEach(async () => {
    for (const close of closers.splice(0)) await close().catch(() => undefined);
    if (engine) await cleanupManaged(engine, names);
  });

  async function setup(overrides = {}, reporter?: CentralReporter) {
    const id = randomUUID().slice(0, 8);
    names = { network: `ota-test-net-${id}`, volume: `ota-test-data-${id}` };
    const made = await makeAgent(tempDir(), names, overrides, reporter);
    engine = made.docker;
    closers.push(() => made.state.close());
    for (const v of ['1.0.0', '1.1.0']) {
      const image = `${AGENT_FIXTURE_REPO}:${v}`;
      const done = await made.deployer.switchTo(
        { version: v, commit: `commit-${v}`, image },
        'switch',
        false,
      );
      expect(done).toMatchObject({ outcome: 'succeeded' });
    }
    return made;
  }

  it('1,000 failed attempts in a row leave rollback, retention and repair correct', async () => {
    const { agent, deployer, updater, images, state, runtime } = await setup();
    // What a full disk or a dead network leaves: one failed row per poll, for hours.
    for (let i = 0; i < 1_000; i++) {
      const row = await state.startDeployment({
        from: '1.1.0',
        to: '9.9.9',
        commit: null,
        kind: 'switch',
      });
      await state.finishDeployment(row, 'failed', 'no space left on device (will retry)');
    }
    expect(await deployer.previousVersion()).toBe('1.0.0');
    await updater.prune();
    expect(await images.find('1.0.0')).toBeDefined(); // the rollback target's image is kept

    const back = await agent.rollback(undefined);
    expect(back, JSON.stringify(back)).toMatchObject({ ok: true });
    const running = (await deployer.running()) as { id: string; version: string };
    expect(running.version).toBe('1.0.0');
    await runtime.stop(running.id, 5);
    expect(await deployer.repair()).toBe('1.0.0');
    expect((await deployer.running())?.version).toBe('1.0.0');
  });

  it('a poll result computed before a failure does not deploy the failed version', async () => {
    const { updater, state, runtime } = await setup();
    await state.markFailed('1.0.0', 'rolled back by the operator');
    const before = await runtime.list();
    expect(await updater.apply(agentTarget('1.0.0'))).toMatchObject({ outcome: 'unchanged' });
    expect((await runtime.list()).map((c) => c.id)).toEqual(before.map((c) => c.id));
  });

  it('a poll that lands during `ota pin` does not override the pin', async () => {
    const { agent, deployer } = await setup();
    const pinning = agent.pin('1.0.0');
    await agent.onPoll(poll('1.1.0')); // chosen before the pin was recorded
    expect(await pinning).toMatchObject({ ok: true });
    await agent.retry('0.0.1'); // queued behind whatever the poll queued
    expect((await deployer.running())?.version).toBe('1.0.0');
    expect((await agent.status()).pinned).toBe('1.0.0');
  });

  it('`ota rollback` during a watch window that fails goes back once, not twice', async () => {
    const { agent, deployer, events } = await setup({ watchMs: 15_000 });
    await agent.onPoll(poll('3.0.0'));
    await until(
      () => events().some((e) => e.msg === 'switched' && e.version === '3.0.0'),
      'the switch to 3.0.0',
    );
    const rollback = await agent.rollback(undefined); // the operator saw 3.0.0 misbehave
    expect(rollback.ok).toBe(true);
    await agent.retry('0.0.1');
    expect((await deployer.running())?.version).toBe('1.1.0');
    expect((await agent.status()).failed.map((f) => f.version)).toEqual(['3.0.0']);
  });

  for (const mode of ['accepts-then-silent', 'packets-dropped'] as const) {
    const skip = mode === 'packets-dropped' && !canDropPackets();
    it.skipIf(skip)(
      `\`ota rollback\` is answered while the central database is silent (${mode})${skip ? ' (SKIPPED: needs root and iptables)' : ''}`,
      async () => {
        const silent = await silentDatabase(mode);
        closers.push(silent.close);
        const db = knex({
          client: 'pg',
          connection: { host: '127.0.0.1', port: silent.port, user: 'ota', database: 'ota' },
          acquireConnectionTimeout: 60_000,
        });
        const reporter = new CentralReporter(db, 'pi-test', captureLog().log);
        closers.push(() => reporter.close());
        const { agent, deployer, events } = await setup({}, reporter);

        await agent.unpin(); // a change through the queue: the agent reports afterwards
        await new Promise((r) => setTimeout(r, 500)); // the report is now stuck connecting
        const started = performance.now();
        const answer = await Promise.race([
          agent.rollback(undefined),
          new Promise((r) => setTimeout(() => r('no answer within 20 s'), 20_000)),
        ]);
        const ms = Math.round(performance.now() - started);
        expect(answer, `after ${ms} ms`).toMatchObject({ ok: true });
        expect((await deployer.running())?.version).toBe('1.0.0');
        const switched = events().findLast((e) => e.msg === 'switched' && e.version === '1.0.0');
        console.log(
          `ota rollback answered in ${ms} ms with the central database silent (${mode}); the switch itself (gate and stop) took ${switched?.ms} ms`,
        );
      },
    );
  }
});

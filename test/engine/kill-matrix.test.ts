import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppContainer } from '../../agent/deploy/container-runtime.js';
import type { Deployer, DeployerOptions } from '../../agent/deploy/deployer.js';
import type { HookPoint } from '../../agent/deploy/step-executor.js';
import { buildFixture, cleanupManaged, makeDeployer, target } from '../helpers/deploy-fixture.js';
import { tempDir } from '../helpers/temp-dir.js';

class AgentKilled extends Error {}

type Made = Awaited<ReturnType<typeof makeDeployer>>;
const up = (cs: AppContainer[]) => cs.filter((c) => c.state === 'running');

interface Scenario {
  readonly name: string;
  readonly options?: Partial<DeployerOptions>;
  /** Brings the device to the state the cut operation starts from (not cut). */
  readonly before: (d: Deployer, made: Made) => Promise<void>;
  /** The operation the agent is killed in. */
  readonly act: (d: Deployer) => Promise<unknown>;
  /** Points of `act` to cut before; `watching`: the watch window has begun. */
  readonly cuts: readonly {
    readonly at: string;
    readonly when: (p: HookPoint, watching: boolean) => boolean;
  }[];
  /** The version that must run, healthy, once a new agent has reconciled. */
  readonly expected: string;
  readonly failed?: string;
}

const step = (action: HookPoint['action'], version?: string) => ({
  at: `${action}${version ? ` ${version}` : ''}`,
  when: (p: HookPoint, watching: boolean) =>
    p.action === action && (version === undefined || p.version === version) && !watching,
});
const inRollback = (action: HookPoint['action'], version: string) => ({
  at: `${action} ${version} of the automatic rollback`,
  when: (p: HookPoint, watching: boolean) =>
    watching && p.action === action && p.version === version,
});

const twoVersions = async (d: Deployer) => {
  await d.switchTo(target('1.0.0'));
  await d.switchTo(target('1.1.0'));
};

const scenarios: Scenario[] = [
  {
    name: 'switch 1.0.0 -> 1.1.0',
    before: async (d) => {
      await d.switchTo(target('0.9.0', 'ota-test/fixture:1.0.0'));
      await d.switchTo(target('1.0.0'));
    },
    act: (d) => d.switchTo(target('1.1.0')),
    cuts: ['create', 'start', 'await-healthy', 'stop', 'remove', 'commit'].map((a) =>
      step(a as HookPoint['action']),
    ),
    expected: '1.1.0',
  },
  {
    name: 'manual rollback 1.1.0 -> 1.0.0',
    before: twoVersions,
    act: (d) => d.rollbackTo('1.0.0'),
    cuts: [step('start', '1.0.0'), step('await-healthy'), step('stop', '1.1.0'), step('commit')],
    expected: '1.0.0',
    failed: '1.1.0',
  },
  {
    name: 'pin 1.1.0 -> 1.0.0',
    before: twoVersions,
    act: (d) => d.switchTo(target('1.0.0'), 'pin', false),
    cuts: [step('start', '1.0.0'), step('await-healthy'), step('stop', '1.1.0'), step('commit')],
    expected: '1.0.0',
  },
  {
    name: 'automatic rollback 3.0.0 (crashes in its watch window) -> 1.0.0',
    options: { watchMs: 12_000 },
    before: async (d) => {
      await d.switchTo(target('1.0.0'));
    },
    act: (d) => d.switchTo(target('3.0.0')),
    cuts: [
      { at: 'the watch window', when: (p) => p.action === 'watch' },
      inRollback('start', '1.0.0'),
      inRollback('await-healthy', '1.0.0'),
      inRollback('stop', '3.0.0'),
      inRollback('commit', '1.0.0'),
    ],
    expected: '1.0.0',
    failed: '3.0.0',
  },
  {
    name: 'repair of a stopped app',
    before: async (d, made) => {
      await d.switchTo(target('1.0.0'));
      const running = up(await made.runtime.list())[0] as AppContainer;
      await made.runtime.stop(running.id, 5);
    },
    act: (d) => d.repair(),
    cuts: [step('start', '1.0.0'), step('await-healthy', '1.0.0')],
    expected: '1.0.0',
  },
];

describe('the agent killed at every step, then a new agent reconciles (real engine)', () => {
  let names: { network: string; volume: string };
  let engine: Docker | undefined;

  beforeAll(async () => {
    await Promise.all([
      buildFixture('1.0.0', 'healthy'),
      buildFixture('1.1.0', 'healthy'),
      buildFixture('3.0.0', 'crash'),
    ]);
  });

  afterEach(async () => {
    if (engine) await cleanupManaged(engine, names);
  });

  for (const s of scenarios) {
    for (const cut of s.cuts) {
      it(`${s.name}: cut before ${cut.at}`, async () => {
        const stateDir = tempDir();
        const id = randomUUID().slice(0, 8);
        names = { network: `ota-test-net-${id}`, volume: `ota-test-data-${id}` };
        let armed = false;
        let watching = false;
        let hit = false;
        const first = await makeDeployer(stateDir, names, {
          ...s.options,
          beforeStep: (p: HookPoint) => {
            if (!armed) return;
            if (p.action === 'watch') watching = true;
            if (!hit && cut.when(p, watching)) {
              hit = true;
              throw new AgentKilled(cut.at);
            }
          },
        });
        engine = first.docker;
        await s.before(first.deployer, first);
        armed = true;
        await expect(s.act(first.deployer)).rejects.toBeInstanceOf(AgentKilled);
        expect(hit).toBe(true);
        await first.state.close();

        // A new agent process: same state file, same engine, no cut.
        const second = await makeDeployer(stateDir, names, s.options);
        expect(await second.deployer.repair()).toBe(s.expected);
        const all = await second.runtime.list();
        const running = up(all);
        expect(
          running.map((c) => c.version),
          JSON.stringify(all),
        ).toEqual([s.expected]);
        // Its check passes now (run inside it, as the gate does; Docker's own status may lag).
        expect(await second.runtime.probe(running[0]?.id as string)).toBe(true);
        // Nothing half-made left: at most one stopped container, kept for a rollback.
        expect(all.filter((c) => c.state !== 'running' && c.state !== 'exited')).toEqual([]);
        expect(all.filter((c) => c.state === 'exited').length).toBeLessThanOrEqual(1);
        expect(await second.state.unfinished()).toBeUndefined();
        if (s.failed) expect((await second.state.failedVersions()).has(s.failed)).toBe(true);
        await second.state.close();
      });
    }
  }
});

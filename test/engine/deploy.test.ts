import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppContainer } from '../../agent/deploy/container-runtime.js';
import { buildFixture, cleanupManaged, makeDeployer, target } from '../helpers/deploy-fixture.js';
import { docker as dockerCli } from '../helpers/docker-cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const up = (cs: AppContainer[]) => cs.filter((c) => c.state === 'running');

describe('deployer on the real engine', () => {
  let names: { network: string; volume: string };
  let engine: Docker | undefined;

  beforeAll(async () => {
    await Promise.all([
      buildFixture('1.0.0', 'healthy'),
      buildFixture('1.1.0', 'healthy'),
      buildFixture('2.0.0', 'never'),
      buildFixture('3.0.0', 'crash'),
    ]);
  });

  afterEach(async () => {
    if (engine) await cleanupManaged(engine, names);
  });

  async function setup(overrides = {}) {
    const id = randomUUID().slice(0, 8);
    names = { network: `ota-test-net-${id}`, volume: `ota-test-data-${id}` };
    const made = await makeDeployer(tempDir(), names, overrides);
    engine = made.docker;
    return made;
  }

  it('starts the new version next to the old one and switches once it is healthy', async () => {
    const { deployer, runtime, state } = await setup();
    expect(await deployer.switchTo(target('1.0.0'))).toMatchObject({ outcome: 'succeeded' });
    const old = (await deployer.running()) as AppContainer;
    expect(old.version).toBe('1.0.0');
    expect(await runtime.probe(old.id)).toBe(true); // its check passes (Docker's status may lag)

    const result = await deployer.switchTo(target('1.1.0'));
    expect(result).toMatchObject({ outcome: 'succeeded', version: '1.1.0' });
    const all = await runtime.list();
    expect(up(all).map((c) => c.version)).toEqual(['1.1.0']);
    expect(all.find((c) => c.id === old.id)?.state).toBe('exited'); // kept for a rollback
    const [latest] = await state.history();
    expect(latest).toMatchObject({ from: '1.0.0', to: '1.1.0', outcome: 'succeeded' });
    expect(await deployer.previousVersion()).toBe('1.0.0');
  });

  it('leaves the old version untouched when the new one never turns healthy', async () => {
    const { deployer, runtime, state } = await setup({ healthTimeoutMs: 6_000 });
    await deployer.switchTo(target('1.0.0'));
    const before = (await deployer.running()) as AppContainer;

    const result = await deployer.switchTo(target('2.0.0'));
    expect(result).toMatchObject({ outcome: 'failed', version: '2.0.0' });
    const after = await runtime.list();
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({
      id: before.id,
      startedAt: before.startedAt,
      state: 'running',
    });
    expect((await state.failedVersions()).get('2.0.0')).toMatch(/unhealthy|not healthy/);
  });

  it('rolls back automatically when the new version crashes in the watch window', async () => {
    const { deployer, runtime, state } = await setup({ watchMs: 10_000 });
    await deployer.switchTo(target('1.0.0'));
    const result = await deployer.switchTo(target('3.0.0'));
    expect(result).toMatchObject({ outcome: 'rolled-back', version: '3.0.0', to: '1.0.0' });
    const running = up(await runtime.list());
    expect(running.map((c) => c.version)).toEqual(['1.0.0']);
    expect(await runtime.probe(running[0]?.id as string)).toBe(true);
    expect((await state.failedVersions()).get('3.0.0')).toMatch(/after the switch/);
    const kinds = (await state.history()).map((d) => `${d.kind}:${d.to}:${d.outcome}`);
    expect(kinds[0]).toBe('auto-rollback:1.0.0:succeeded');
  });

  it('rolls back on request to the previous version from its kept container, without network', async () => {
    const { deployer, runtime, state } = await setup();
    await deployer.switchTo(target('1.0.0'));
    await deployer.switchTo(target('1.1.0'));
    const kept = (await runtime.list()).find((c) => c.version === '1.0.0');
    const previous = await deployer.previousVersion();
    expect(previous).toBe('1.0.0');

    const result = await deployer.rollbackTo(previous as string);
    expect(result).toMatchObject({ outcome: 'succeeded', version: '1.0.0' });
    const running = up(await runtime.list());
    expect(running.map((c) => c.id)).toEqual([kept?.id]); // the same container, restarted
    expect((await state.failedVersions()).get('1.1.0')).toBe('rolled back by the operator');
  });

  it('rolls back to a named kept version from its image when no container is left', async () => {
    const { deployer, runtime } = await setup();
    await deployer.switchTo(target('1.0.0'));
    await deployer.switchTo(target('1.1.0'));
    for (const c of await runtime.list()) if (c.version === '1.0.0') await runtime.remove(c.id);
    expect(await deployer.rollbackTo('1.0.0')).toMatchObject({ outcome: 'succeeded' });
    expect(up(await runtime.list()).map((c) => c.version)).toEqual(['1.0.0']);
  });

  it('never touches containers it did not create', async () => {
    const { deployer } = await setup();
    const name = `ota-test-user-${randomUUID().slice(0, 8)}`;
    await dockerCli([
      'run',
      '-d',
      '--name',
      name,
      process.env.OTA_NODE_IMAGE ?? 'node:20',
      'node',
      '-e',
      'setInterval(()=>{},1e3)',
    ]);
    try {
      await deployer.switchTo(target('1.0.0'));
      await deployer.switchTo(target('1.1.0'));
      await deployer.repair();
      expect(await dockerCli(['inspect', '-f', '{{.State.Running}}', name])).toBe('true');
    } finally {
      await dockerCli(['rm', '-f', name]);
    }
  });

  describe('repair', () => {
    // Kills at every step of every kind of change: kill-matrix.test.ts.
    it('starts the current version again when it was found stopped, and leaves a lone healthy app alone', async () => {
      const { deployer, runtime } = await setup();
      await deployer.switchTo(target('1.0.0'));
      const only = (await deployer.running()) as AppContainer;
      await deployer.repair();
      expect((await runtime.inspect(only.id))?.startedAt).toBe(only.startedAt); // not restarted

      await runtime.stop(only.id, 5);
      expect(await deployer.repair()).toBe('1.0.0');
      expect(up(await runtime.list()).map((c) => c.id)).toEqual([only.id]);

      await runtime.remove(only.id);
      expect(await deployer.repair()).toBe('1.0.0'); // recreated from its image
      expect(up(await runtime.list()).map((c) => c.version)).toEqual(['1.0.0']);
    });
  });
});

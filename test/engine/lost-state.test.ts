import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deviceIdOfApps, loadOrCreateDeviceId } from '../../agent/device-id.js';
import {
  AGENT_FIXTURE_REPO,
  agentTarget,
  buildAgentFixture,
  makeAgent,
} from '../helpers/agent-fixture.js';
import { cleanupManaged } from '../helpers/deploy-fixture.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('the agent state volume is lost (real engine)', () => {
  let names: { network: string; volume: string };
  let engine: Docker | undefined;

  beforeEach(async () => {
    await Promise.all(['1.0.0', '1.1.0'].map((v) => buildAgentFixture(v, 'healthy')));
  });

  afterEach(async () => {
    if (engine) await cleanupManaged(engine, names);
  });

  /** A device that ran 1.0.0 then 1.1.0; its agent then starts on an empty state volume. */
  async function deviceWithLostState() {
    const id = randomUUID().slice(0, 8);
    names = { network: `ota-test-net-${id}`, volume: `ota-test-data-${id}` };
    const before = await makeAgent(tempDir(), names);
    engine = before.docker;
    for (const v of ['1.0.0', '1.1.0']) {
      const image = `${AGENT_FIXTURE_REPO}:${v}`;
      const done = await before.deployer.switchTo({ version: v, commit: `commit-${v}`, image });
      expect(done).toMatchObject({ outcome: 'succeeded' });
    }
    await before.state.close();
    const after = await makeAgent(tempDir(), names);
    return after;
  }

  it('adopts the running app, keeps the earlier versions as rollback targets, and rolls back', async () => {
    const after = await deviceWithLostState();
    expect(await after.deployer.repair()).toBe('1.1.0'); // the running app is adopted, untouched
    await after.updater.prune();
    expect(await after.images.find('1.0.0')).toBeDefined(); // not pruned: a rollback target
    const back = await after.agent.rollback(undefined);
    expect(back, JSON.stringify(back)).toMatchObject({ ok: true });
    expect((await after.deployer.running())?.version).toBe('1.0.0');
    // An update after the loss prunes nothing it must keep either.
    await after.updater.apply(agentTarget('1.1.0'));
    expect(await after.images.find('1.0.0')).toBeDefined();
    await after.state.close();
  });

  it('keeps the device id the running app reports, rather than making a new one', async () => {
    const after = await deviceWithLostState();
    const apps = await after.runtime.list();
    const recovered = deviceIdOfApps(apps);
    expect(recovered).toBe('pi-test'); // what the fixture's containers were started with
    const dir = tempDir();
    const file = join(dir, 'device-id');
    expect(loadOrCreateDeviceId(file, 'pi', recovered)).toBe('pi-test');
    // An existing id file always wins: the app's env never renames a device.
    mkdirSync(join(dir, 'other'));
    writeFileSync(join(dir, 'other', 'device-id'), 'pi-kept\n');
    expect(loadOrCreateDeviceId(join(dir, 'other', 'device-id'), 'pi', recovered)).toBe('pi-kept');
    expect(loadOrCreateDeviceId(join(dir, 'fresh'), 'pi', undefined)).toMatch(/^pi-[a-z2-9]{8}$/);
    await after.state.close();
  });
});

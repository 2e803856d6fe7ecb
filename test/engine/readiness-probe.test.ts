import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildFixture,
  cleanupManaged,
  FIXTURE_REPO,
  makeDeployer,
  target,
} from '../helpers/deploy-fixture.js';
import { docker as dockerCli } from '../helpers/docker-cli.js';
import { tempDir, tempDirForSuite } from '../helpers/temp-dir.js';

/**
 * The fixture with the engine's health interval at 60 s: the engine cannot call it healthy
 * within the gate's 20 s. Only the agent running the same check itself can.
 */
async function withSlowEngineCheck(
  dir: string,
  version: string,
  mode: 'healthy' | 'never',
): Promise<string> {
  const base = await buildFixture(`${version}-base`, mode);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'Dockerfile'),
    `FROM ${base}\nHEALTHCHECK --interval=60s --timeout=2s --start-period=60s --retries=2 CMD ["node", "/fixture.js", "check"]\n`,
  );
  const ref = `${FIXTURE_REPO}:${version}`;
  await dockerCli(['build', '-q', '--label', 'ota-test=deploy', '-t', ref, dir]);
  return ref;
}

describe("the health gate runs the container's own check (real engine)", () => {
  let names: { network: string; volume: string };
  let engine: Docker | undefined;
  const contexts = tempDirForSuite();

  beforeAll(async () => {
    await Promise.all([
      buildFixture('1.0.0', 'healthy'),
      withSlowEngineCheck(join(contexts, 'a'), '4.0.0', 'healthy'),
      withSlowEngineCheck(join(contexts, 'b'), '4.1.0', 'never'),
    ]);
  });

  afterEach(async () => {
    if (engine) await cleanupManaged(engine, names);
  });

  async function setup() {
    const id = randomUUID().slice(0, 8);
    names = { network: `ota-test-net-${id}`, volume: `ota-test-data-${id}` };
    const made = await makeDeployer(tempDir(), names);
    engine = made.docker;
    return made;
  }

  it('switches as soon as the check passes, before the engine has run it', async () => {
    const { deployer, runtime } = await setup();
    expect((await deployer.switchTo(target('1.0.0'))).outcome).toBe('succeeded');
    const result = await deployer.switchTo(target('4.0.0'));
    expect(result.outcome).toBe('succeeded');
    const running = (await runtime.list()).filter((c) => c.state === 'running');
    expect(running.map((c) => c.version)).toEqual(['4.0.0']);
    // The engine's first check is 60 s away: it still says "starting". The gate passed on the
    // same check, run by the agent inside the container.
    expect(running[0]?.health).toBe('starting');
    // And back: the kept 1.0.0 container is started and gated the same way.
    expect((await deployer.rollbackTo('1.0.0')).outcome).toBe('succeeded');
    expect((await runtime.list()).filter((c) => c.state === 'running')[0]?.version).toBe('1.0.0');
  });

  it('a check that does not pass is not made to pass: the gate fails, the old version runs on', async () => {
    const { deployer, runtime } = await setup();
    expect((await deployer.switchTo(target('1.0.0'))).outcome).toBe('succeeded');
    const result = await deployer.switchTo(target('4.1.0'));
    expect(result.outcome).toBe('failed');
    const all = await runtime.list();
    expect(all.map((c) => `${c.version}:${c.state}`)).toEqual(['1.0.0:running']);
  });
});

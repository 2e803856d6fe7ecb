// Times Deployer.rollbackTo on the real engine: to running, to healthy, to the call's return.
import type { TargetImage } from '../../agent/deploy/plan.js';
import type { BenchDeployer } from './bench-deployer.js';

export interface RollbackTimes {
  /** From the call until runtime.start returned (and inspect shows the container running). */
  readonly running: number[];
  /** From the call until the health gate passed (the agent ran the container's check). */
  readonly healthy: number[];
  /** From the call until Docker itself reported 'healthy' (its HEALTHCHECK interval). */
  readonly engineHealthy: number[];
  /** From the call until it returned: the version left behind is stopped by then. */
  readonly total: number[];
  /** Rollbacks that started the kept, stopped container rather than creating one. */
  readonly fromKept: number;
}

const expectSucceeded = async (what: Promise<{ outcome: string }>, label: string) => {
  const result = await what;
  if (result.outcome !== 'succeeded') throw new Error(`${label}: ${JSON.stringify(result)}`);
};

/** Starts `back`, then `times` x (switch to `next`, timed rollbackTo(`back`)). */
export async function timeRollbacks(
  kit: BenchDeployer,
  target: (version: string) => TargetImage,
  back: string,
  next: string,
  times: number,
  progress: (message: string) => void,
): Promise<RollbackTimes> {
  await expectSucceeded(kit.deployer.switchTo(target(back)), `first start of ${back}`);
  const running: number[] = [];
  const healthy: number[] = [];
  const engineHealthy: number[] = [];
  const total: number[] = [];
  let fromKept = 0;
  for (let i = 1; i <= times; i++) {
    progress(`rollback ${i}/${times}`);
    await expectSucceeded(kit.deployer.switchTo(target(next)), `switch to ${next}`);
    const start = performance.now();
    let created = false;
    let runningAt: number | undefined;
    let healthyAt: number | undefined;
    kit.onStep = async (step) => {
      if (step.action === 'create') created = true;
      if (step.action === 'await-healthy' && runningAt === undefined) {
        runningAt = performance.now();
        const c = await kit.runtime.inspect(step.container);
        if (c?.state !== 'running') throw new Error(`start returned, container is ${c?.state}`);
      }
      if (step.action === 'stop') healthyAt ??= performance.now();
    };
    try {
      await expectSucceeded(kit.deployer.rollbackTo(back), `rollback to ${back}`);
    } finally {
      kit.onStep = undefined;
    }
    total.push(performance.now() - start);
    engineHealthy.push((await engineSaysHealthy(kit, back)) - start);
    running.push((runningAt ?? Number.NaN) - start);
    healthy.push((healthyAt ?? Number.NaN) - start);
    if (!created) fromKept += 1;
  }
  return { running, healthy, engineHealthy, total, fromKept };
}

/** When Docker's own status for the running `version` turns 'healthy' (the old gate's signal). */
async function engineSaysHealthy(kit: BenchDeployer, version: string): Promise<number> {
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    const up = (await kit.runtime.list()).find((c) => c.version === version);
    if (up?.health === 'healthy') return performance.now();
    await new Promise((r) => setTimeout(r, 50));
  }
  return Number.NaN;
}

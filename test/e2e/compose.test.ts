import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetReport } from '../../agent/report/central-reporter.js';
import { ComposeStack, sleep } from '../helpers/compose-stack.js';
import { docker, REPO_ROOT } from '../helpers/docker-cli.js';
import { tempDirForSuite } from '../helpers/temp-dir.js';

const INTERVAL_MS = 1000;

describe('compose.yaml end to end: tag a release, watch it roll out', () => {
  const stack = new ComposeStack(tempDirForSuite('ota-e2e-'));
  const AGENT = stack.agent;
  const ota = (...args: string[]) => stack.ota(...args);
  const status = () => stack.status();
  const history = () => stack.history();
  const until = <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>) =>
    stack.until(what, timeoutMs, probe);
  const runningIs = (version: string, timeoutMs?: number) => stack.runningIs(version, timeoutMs);
  const appContainers = () => stack.appContainers();
  const release = (...args: Parameters<ComposeStack['release']>) => stack.release(...args);

  beforeAll(async () => {
    // A copy of this repository's app, as a user's app repository would hold it.
    await stack.serve((repo) => repo.copyApp(REPO_ROOT));
    await release('v1.0.0');
    await stack.up({
      OTA_HEALTH_TIMEOUT: '40s',
      OTA_WATCH_WINDOW: '90s',
      WEATHER_INTERVAL_MS: String(INTERVAL_MS),
    });
  });

  afterAll(async () => {
    await stack.down(['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0', '1.5.0']);
  });

  it('deploys the first tagged version on `up -d`', async () => {
    const s = await runningIs('1.0.0', 900_000);
    expect(s.deviceId).toMatch(/^e2e-[a-z2-9]{8}$/);
  });

  it('rolls a new tag out with no reading interval missed', async () => {
    const before = (await status()).running;
    await release('v1.1.0');
    await runningIs('1.1.0');
    // Old and new shared the spool on the data volume; their readings together leave no gap.
    const app = (await status()).running?.container as string;
    const script = `const D=require('/app/node_modules/better-sqlite3');const db=new D('/data/spool.db',{readonly:true});console.log(JSON.stringify(db.prepare('select payload from spool').all().map(r=>JSON.parse(r.payload)).map(r=>[Date.parse(r.recordedAt),r.appVersion])))`;
    const readSpool = async () =>
      (JSON.parse(await docker(['exec', app, 'node', '-e', script])) as [number, string][]).sort(
        (a, b) => a[0] - b[0],
      );
    // The switch can be reported a few seconds after the new version's first reading (the gate
    // probes it at once): wait until the new version has sampled for 8 intervals, so the window
    // checked below spans the whole overlap and some time after it.
    let rows = await readSpool();
    for (let i = 0; i < 30 && rows.filter((r) => r[1] === '1.1.0').length < 8; i++) {
      await new Promise((r) => setTimeout(r, INTERVAL_MS));
      rows = await readSpool();
    }
    const gaps = rows.slice(1).map((r, i) => r[0] - (rows[i] as [number, string])[0]);
    expect(rows.some((r) => r[1] === '1.0.0') && rows.some((r) => r[1] === '1.1.0')).toBe(true);
    expect(Math.max(...gaps)).toBeLessThan(1.5 * INTERVAL_MS);
    // ... and no interval got two readings while both sampled (the same slot makes the same
    // id: the spool keeps one). From 5 s before the new version's first reading: 1.0.0's very
    // first reading, when nothing ran, was taken mid-interval at its start.
    const firstNew = rows.find((r) => r[1] === '1.1.0')?.[0] ?? 0;
    const around = rows.filter((r) => r[0] >= firstNew - 5_000);
    const close = around
      .slice(1)
      .filter((r, i) => r[0] - (around[i]?.[0] ?? 0) < 0.5 * INTERVAL_MS);
    expect(close).toEqual([]);
    expect(around.length).toBeGreaterThan(10);
    expect(before?.version).toBe('1.0.0');
  });

  it('refuses a tag whose app never turns healthy; the old version keeps running', async () => {
    const before = (await status()).running;
    await release('v1.2.0', (f) => {
      const text = f.read('Dockerfile.app');
      const broken = text.replace(
        'CMD ["node", "dist/app/health-check.js"]',
        'CMD ["node", "-e", "process.exit(1)"]',
      );
      expect(broken).not.toBe(text);
      f.write('Dockerfile.app', broken);
    });
    const s = await until('1.2.0 recorded as failed', 900_000, async () => {
      const now = await status();
      return now.failed.some((x) => x.version === '1.2.0') && now.activity.state === 'idle'
        ? now
        : undefined;
    });
    expect(s.running).toMatchObject({
      version: '1.1.0',
      container: before?.container,
      startedAt: before?.startedAt,
    });
  });

  it('rolls back automatically when a tag crashes a minute after the switch', async () => {
    await release('v1.3.0', (f) => {
      f.write(
        'app/main.ts',
        `${f.read('app/main.ts')}\nsetTimeout(() => process.exit(1), 60_000);\n`,
      );
    });
    await runningIs('1.3.0');
    const s = await until('1.3.0 rolled back', 240_000, async () => {
      const now = await status();
      return now.running?.version === '1.1.0' && now.failed.some((x) => x.version === '1.3.0')
        ? now
        : undefined;
    });
    expect(s.failed.find((x) => x.version === '1.3.0')?.reason).toMatch(/after the switch/);
    expect((await history())[0]).toMatchObject({
      kind: 'auto-rollback',
      to: '1.1.0',
      outcome: 'succeeded',
    });
  });

  it('ota rollback goes back to the previous good version', async () => {
    const out = await ota('rollback');
    expect(out).toMatch(/^ok: rollback to 1\.0\.0: succeeded/);
    await runningIs('1.0.0', 60_000);
  });

  it('ota pin holds the device while new tags arrive; unpin follows them again', async () => {
    expect(await ota('pin', '1.0.0')).toMatch(/^ok: pinned to 1\.0\.0/);
    await release('v1.4.0');
    expect(await ota('check')).toMatch(/1\.4\.0 is available; pinned to 1\.0\.0/);
    await sleep(12_000);
    const s = await status();
    expect(s).toMatchObject({ pinned: '1.0.0', running: { version: '1.0.0' } });
    expect(await ota('unpin')).toMatch(/^ok: unpinned/);
    await runningIs('1.4.0');
  });

  it('recovers from SIGKILL of the agent mid-update with exactly one healthy app', async () => {
    await release('v1.5.0');
    await until('the agent deploying 1.5.0', 900_000, async () => {
      const s = await status();
      return s.activity.state === 'deploying' && s.activity.version === '1.5.0' ? true : undefined;
    });
    await sleep(1_500); // inside the switch: the new container is starting next to the old one
    await docker(['kill', '-s', 'KILL', AGENT]);
    await docker(['start', AGENT]);
    const s = await until('one healthy app after the restart', 300_000, async () => {
      const now = await status();
      const running = (await appContainers()).filter((l) => l.endsWith(' running'));
      return running.length === 1 && now.running?.health === 'healthy' ? now : undefined;
    });
    expect(['1.4.0', '1.5.0']).toContain(s.running?.version);
    await runningIs('1.5.0');
    expect((await appContainers()).filter((l) => l.endsWith(' running'))).toHaveLength(1);
  });

  it('history records every deployment with its outcome', async () => {
    // 1.5.0's row gets its outcome when its watch window (90 s here) ends.
    const rows = await until('every deployment finished', 240_000, async () => {
      const all = await history();
      return all.every((d) => d.outcome !== null) ? all : undefined;
    });
    const seen = rows.map((d) => `${d.to}:${d.outcome}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        '1.0.0:succeeded',
        '1.1.0:succeeded',
        '1.2.0:failed',
        '1.3.0:rolled-back',
        '1.5.0:succeeded',
      ]),
    );
    expect(rows.every((d) => d.outcome !== null)).toBe(true);
  });

  it('the central database shows the device, its version and each rollout', async () => {
    const me = (await status()).deviceId;
    const fleet = await until('the fleet view', 60_000, async () => {
      const f = JSON.parse(await ota('fleet', '--json')) as FleetReport;
      return f.devices.find((d) => d.id === me)?.version === '1.5.0' ? f : undefined;
    });
    expect(fleet.rollouts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ version: '1.2.0', failed: 1 }),
        expect.objectContaining({ version: '1.3.0', rolledBack: 1 }),
        expect.objectContaining({ version: '1.1.0', succeeded: 1 }),
      ]),
    );
  });

  it('`docker compose down` stops the agent and leaves the app running', async () => {
    await stack.compose('down');
    const running = (await appContainers()).filter((l) => l.endsWith(' running'));
    expect(running).toHaveLength(1);
  });
});

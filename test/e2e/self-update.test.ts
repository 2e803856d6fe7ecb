import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComposeStack, type Files, sleep } from '../helpers/compose-stack.js';
import { docker, REPO_ROOT } from '../helpers/docker-cli.js';
import { tempDirForSuite } from '../helpers/temp-dir.js';

const AGENT_FILES = ['Dockerfile.agent', 'agent', 'tsconfig.agent.json'];
const PAUSE = '/var/lib/ota/test-pause';
const APP_VERSIONS = ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0'];

/** A change to the agent's code (a comment): a new agent fingerprint, the same behaviour. */
const touchAgent = (tag: string) => (f: Files) =>
  f.write('agent/labels.ts', `${f.read('agent/labels.ts')}\n// agent of ${tag}\n`);

describe('the agent updates itself from a release tag, through compose', () => {
  const stack = new ComposeStack(tempDirForSuite('ota-e2e-self-'));
  const next = `${stack.agent}-next`;

  /** The project's agent containers ("name state"): compose's and those the agents created. */
  const agents = async () => {
    const out = await docker([
      'ps',
      '-a',
      '--filter',
      `label=com.docker.compose.project=${stack.project}`,
      '--filter',
      'label=com.docker.compose.service=agent',
      '--format',
      '{{.Names}} {{.State}}',
    ]);
    return out.split('\n').filter(Boolean);
  };
  const runningApps = async () =>
    (await stack.appContainers()).filter((l) => l.endsWith(' running'));
  const agentIs = (version: string, timeoutMs = 600_000) =>
    stack.until(`agent ${version} in charge`, timeoutMs, async () => {
      const s = await stack.status();
      return s.agent?.version === version && s.activity.state === 'idle' ? s : undefined;
    });
  /** Waits until an agent stopped at `step` (OTA_TEST_PAUSE_FILE), then SIGKILLs and restarts it. */
  const killAt = async (step: string, container: string) => {
    await stack.until(`an agent paused at ${step}`, 600_000, async () => {
      for (const c of [stack.agent, next]) {
        const at = await docker(['exec', c, 'cat', `${PAUSE}.paused`]).catch(() => '');
        if (at === step) return true;
      }
      return undefined;
    });
    await docker(['kill', '-s', 'KILL', container]);
    // What Docker's restart policy or a reboot would do; the other agent may have removed it.
    await docker(['start', container]).catch(() => undefined);
    expect(await runningApps()).toHaveLength(1);
  };
  /** Releases `tag` (changing the agent) with the agents told to stop at `steps`; kills each. */
  const killEachStep = async (tag: string, steps: readonly string[], container: string) => {
    const lines = steps.map((s) => `${s}\\n`).join('');
    await docker(['exec', stack.agent, 'sh', '-c', `printf '${lines}' > ${PAUSE}`]);
    await stack.release(tag, touchAgent(tag));
    for (const step of steps) await killAt(step, container);
  };
  const oneAgentOneApp = async (agentVersion: string, appVersion: string) => {
    await agentIs(agentVersion);
    await stack.runningIs(appVersion);
    expect(await agents()).toEqual([`${stack.agent} running`]);
    expect(await runningApps()).toHaveLength(1);
  };

  beforeAll(async () => {
    await stack.serve((repo) => {
      // The whole project: the app and the agent, as the project's own repository holds them.
      repo.copyApp(REPO_ROOT);
      for (const f of AGENT_FILES)
        cpSync(join(REPO_ROOT, f), join(repo.work, f), { recursive: true });
    });
    await stack.release('v1.0.0');
    await stack.up(
      {
        OTA_HEALTH_TIMEOUT: '40s',
        OTA_WATCH_WINDOW: '0',
        OTA_AGENT_HANDOVER_TIMEOUT: '30s',
        WEATHER_INTERVAL_MS: '1000',
      },
      // The checkout compose ran in is the release repository's: the agent it built is v1.0.0's.
      `    environment:\n      OTA_TEST_PAUSE_FILE: ${PAUSE}\n    volumes:\n      - ${stack.repo.work}/.git:/etc/ota/checkout.git:ro\n`,
    );
  });

  afterAll(async () => {
    for (const line of await agents().catch(() => [])) {
      await docker(['rm', '-f', line.split(' ')[0] as string]).catch(() => undefined);
    }
    await stack.down(APP_VERSIONS);
    for (const v of APP_VERSIONS)
      await docker(['rmi', `edge-ota/agent:${v}`]).catch(() => undefined);
  });

  it('the agent compose built is taken to be the checkout it was built from', async () => {
    const s = await stack.runningIs('1.0.0');
    expect(s.agent).toMatchObject({ origin: 'checkout', container: stack.agent });
    expect(await agents()).toEqual([`${stack.agent} running`]);
  });

  it('a tag that changes the agent brings up the new agent, which deploys its app', async () => {
    const app = (await stack.status()).running;
    await stack.release('v1.1.0', touchAgent('v1.1.0'));
    const s = await agentIs('1.1.0');
    expect(s.agent).toMatchObject({ origin: 'image', container: stack.agent });
    await oneAgentOneApp('1.1.0', '1.1.0');
    const rows = await stack.history();
    const agentRow = rows.find((d) => d.kind === 'agent-update' && d.to === '1.1.0');
    const appRow = rows.find((d) => d.kind === 'switch' && d.to === '1.1.0');
    expect(agentRow?.outcome).toBe('succeeded');
    // The agent was replaced before the app was touched: the new agent switched it afterwards.
    expect(Date.parse(appRow?.startedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(agentRow?.finishedAt ?? 'x'),
    );
    expect(appRow?.from).toBe(app?.version);
  });

  it('`docker compose up -d` afterwards keeps the new agent', async () => {
    await stack.compose('up', '-d', 'agent');
    await sleep(3_000);
    await oneAgentOneApp('1.1.0', '1.1.0');
    const image = await docker(['inspect', '-f', '{{.Image}}', stack.agent]);
    expect(await docker(['image', 'inspect', '-f', '{{.Id}}', 'ota-agent:local'])).toBe(image);
  });

  it('a tag whose agent never turns healthy leaves the old agent in charge, the app untouched', async () => {
    const before = await stack.status();
    const container = await docker(['inspect', '-f', '{{.Id}}', stack.agent]);
    await stack.release('v1.2.0', (f) => {
      const main = f.read('agent/main.ts');
      const hung = main.replace(
        'const config = loadConfigOrExit();',
        'await new Promise(() => setInterval(() => undefined, 60_000));\n  const config = loadConfigOrExit();',
      );
      expect(hung).not.toBe(main);
      f.write('agent/main.ts', hung);
    });
    const s = await stack.until('1.2.0 failed', 900_000, async () => {
      const now = await stack.status();
      return now.failed.some((x) => x.version === '1.2.0') && now.activity.state === 'idle'
        ? now
        : undefined;
    });
    expect(s.failed.find((x) => x.version === '1.2.0')?.reason).toMatch(/agent hand-over failed/);
    expect(s.running).toMatchObject({
      version: '1.1.0',
      container: before.running?.container,
      startedAt: before.running?.startedAt,
    });
    expect(await docker(['inspect', '-f', '{{.Id}}', stack.agent])).toBe(container);
    expect(await agents()).toEqual([`${stack.agent} running`]);
  });

  it('the old agent SIGKILLed at each of its hand-over steps: one agent, one healthy app', async () => {
    await stack.ota('status'); // the agent answers before the pause file is written
    const steps = ['built', 'candidate-created', 'candidate-started', 'lease-passed'];
    await killEachStep('v1.3.0', steps, stack.agent);
    await oneAgentOneApp('1.3.0', '1.3.0');
  });

  it('the new agent SIGKILLed at each of its take-over steps: one agent, one healthy app', async () => {
    await killEachStep('v1.4.0', ['took-lead', 'predecessor-removed'], next);
    await oneAgentOneApp('1.4.0', '1.4.0');
    const rows = (await stack.history()).filter((d) => d.kind === 'agent-update');
    expect(rows.find((d) => d.to === '1.4.0')?.outcome).toBe('succeeded');
    expect(rows.find((d) => d.to === '1.2.0')?.outcome).toBe('failed');
    // The replaced agent's image is kept for going back by hand; the failed one's is not.
    const image = (v: string) =>
      docker(['image', 'inspect', '-f', '{{.Id}}', `edge-ota/agent:${v}`]);
    await expect(image('1.3.0')).resolves.toMatch(/^sha256:/);
    await expect(image('1.2.0')).rejects.toThrow();
  });
});

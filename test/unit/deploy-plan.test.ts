import { describe, expect, it } from 'vitest';
import type { AppContainer } from '../../agent/deploy/container-runtime.js';
import {
  gateVerdict,
  NEW,
  planRepair,
  planRetention,
  planSwitch,
  watchVerdict,
} from '../../agent/deploy/plan.js';

let n = 0;
function c(
  version: string,
  state: AppContainer['state'],
  health: AppContainer['health'] = 'healthy',
  extra: Partial<AppContainer> = {},
): AppContainer {
  n += 1;
  return {
    id: `id-${version}-${n}`,
    name: `weather-${version}`,
    version,
    commit: `c${version}`,
    image: `img:${version}`,
    state,
    health,
    restartCount: 0,
    exitCode: 0,
    createdAt: `2026-01-01T00:00:${String(n).padStart(2, '0')}Z`,
    startedAt: '2026-01-01T00:00:00Z',
    ...extra,
  };
}
const target = { version: '1.1.0', commit: 'c1.1.0', image: 'img:1.1.0' };

describe('planSwitch', () => {
  it('creates and starts the new version, gates on health, then stops the old one', () => {
    const old = c('1.0.0', 'running');
    const plan = planSwitch([old], target, 30_000);
    expect(plan.start.map((s) => s.action)).toEqual(['create', 'start', 'await-healthy']);
    expect(plan.onHealthy).toEqual([{ action: 'stop', container: old.id, version: '1.0.0' }]);
    expect(plan.onFailure).toEqual([
      { action: 'remove', container: NEW, version: '1.1.0', reason: 'failed its health gate' },
    ]);
  });

  it('starts a kept stopped container instead of creating one (fast rollback)', () => {
    const kept = c('1.1.0', 'exited');
    const plan = planSwitch([c('1.2.0', 'running'), kept], target, 30_000);
    expect(plan.start[0]).toEqual({ action: 'start', container: kept.id, version: '1.1.0' });
  });

  it('does nothing when the target already runs', () => {
    expect(planSwitch([c('1.1.0', 'running')], target, 1).start).toEqual([]);
  });

  it('removes older stopped containers once the new one is healthy', () => {
    const older = c('0.9.0', 'exited');
    const plan = planSwitch([c('1.0.0', 'running'), older], target, 1);
    expect(plan.onHealthy).toContainEqual({
      action: 'remove',
      container: older.id,
      version: '0.9.0',
      reason: 'superseded',
    });
  });
});

describe('planRepair', () => {
  const ctx = { current: '1.0.0', inProgress: undefined };

  it('leaves a lone running app alone', () => {
    expect(planRepair([c('1.0.0', 'running')], ctx, 1)).toEqual({ steps: [], keep: '1.0.0' });
  });

  it('removes half-created containers', () => {
    const half = c('1.1.0', 'created', 'none');
    const plan = planRepair([c('1.0.0', 'running'), half], ctx, 1);
    expect(plan.steps).toEqual([
      { action: 'remove', container: half.id, version: '1.1.0', reason: 'half-created' },
    ]);
  });

  it('finishes a switch whose new version is already healthy', () => {
    const old = c('1.0.0', 'running');
    const plan = planRepair(
      [old, c('1.1.0', 'running')],
      { current: '1.0.0', inProgress: { from: '1.0.0', to: '1.1.0' } },
      1,
    );
    expect(plan.keep).toBe('1.1.0');
    expect(plan.steps).toEqual([{ action: 'stop', container: old.id, version: '1.0.0' }]);
  });

  it('abandons a switch whose new version is not healthy yet', () => {
    const fresh = c('1.1.0', 'running', 'starting');
    const plan = planRepair(
      [c('1.0.0', 'running'), fresh],
      { current: '1.0.0', inProgress: { from: '1.0.0', to: '1.1.0' } },
      1,
    );
    expect(plan.keep).toBe('1.0.0');
    expect(plan.steps).toEqual([
      { action: 'remove', container: fresh.id, version: '1.1.0', reason: 'switch cut short' },
    ]);
  });

  it('starts the trusted version when nothing runs', () => {
    const current = c('1.0.0', 'exited');
    const plan = planRepair([c('0.9.0', 'exited'), current], ctx, 5);
    expect(plan.keep).toBe('1.0.0');
    expect(plan.steps.map((s) => s.action)).toEqual(['start', 'await-healthy']);
  });

  it('has nothing to keep when there are no containers', () => {
    expect(planRepair([], ctx, 1)).toEqual({ steps: [], keep: undefined });
  });
});

describe('verdicts', () => {
  it('gate: healthy passes, exit/restart/unhealthy/no-healthcheck fail, starting waits', () => {
    const base = c('1.1.0', 'running', 'starting');
    expect(gateVerdict(base, { ...base, health: 'healthy' })).toEqual({ ok: true });
    expect(gateVerdict(base, { ...base, health: 'starting' })).toBeUndefined();
    expect(gateVerdict(base, { ...base, state: 'exited', exitCode: 3 })).toMatchObject({
      ok: false,
    });
    expect(gateVerdict(base, { ...base, restartCount: 1 })).toMatchObject({ ok: false });
    expect(gateVerdict(base, { ...base, health: 'unhealthy' })).toMatchObject({ ok: false });
    expect(gateVerdict(base, { ...base, health: 'none' })).toMatchObject({ ok: false });
    expect(gateVerdict(base, undefined)).toMatchObject({ ok: false });
  });

  it('watch: restart, exit and unhealthy trigger a rollback', () => {
    const base = c('1.1.0', 'running');
    expect(watchVerdict(base, base)).toEqual({ ok: true });
    expect(watchVerdict(base, { ...base, restartCount: 2 })).toEqual({
      ok: false,
      reason: 'restarted 2 time(s)',
    });
    expect(watchVerdict(base, { ...base, state: 'exited', exitCode: 1 })).toMatchObject({
      ok: false,
    });
    expect(watchVerdict(base, { ...base, health: 'unhealthy' })).toMatchObject({ ok: false });
  });
});

describe('planRetention', () => {
  it('keeps the N most recent successful versions plus the protected ones', () => {
    const images = ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '2.0.0-bad', '0.9.0'];
    const remove = planRetention(
      images,
      ['1.3.0', '1.2.0', '1.1.0', '1.0.0', '0.9.0'],
      3,
      new Set(['0.9.0']),
    );
    expect(remove.sort()).toEqual(['1.0.0', '2.0.0-bad']);
  });

  it('never removes the running or previous version even with keep = 1', () => {
    expect(
      planRetention(['1.0.0', '1.1.0'], ['1.1.0', '1.0.0'], 1, new Set(['1.1.0', '1.0.0'])),
    ).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import type { AppContainer } from '../../agent/deploy/container-runtime.js';
import {
  gateVerdict,
  NEW,
  planAbort,
  planFinish,
  planRetention,
  planSettle,
  planStart,
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

describe('planStart', () => {
  it('creates and starts the new version next to the old one, then gates on health', () => {
    const plan = planStart([c('1.0.0', 'running')], target, 30_000);
    expect(plan.map((s) => s.action)).toEqual(['create', 'start', 'await-healthy']);
    expect(plan[2]).toMatchObject({ container: NEW, timeoutMs: 30_000 });
  });

  it('starts a kept stopped container instead of creating one (fast rollback)', () => {
    const kept = c('1.1.0', 'exited');
    const plan = planStart([c('1.2.0', 'running'), kept], target, 30_000);
    expect(plan[0]).toEqual({ action: 'start', container: kept.id, version: '1.1.0' });
  });

  it('picks the newest kept container by its real creation time (Docker trims trailing zeros)', () => {
    // RFC3339Nano as Docker writes it: .12345 s is earlier than .123456789 s, though "Z" sorts
    // after "6" as text.
    const older = c('1.1.0', 'exited', 'none', { createdAt: '2026-01-01T00:00:05.12345Z' });
    const newer = c('1.1.0', 'exited', 'none', { createdAt: '2026-01-01T00:00:05.123456789Z' });
    for (const containers of [
      [older, newer],
      [newer, older],
    ]) {
      const plan = planStart([c('1.2.0', 'running'), ...containers], target, 30_000);
      expect(plan.find((s) => s.action === 'start')).toMatchObject({ container: newer.id });
      expect(plan.find((s) => s.action === 'remove')).toMatchObject({ container: older.id });
    }
  });

  it('resumes on a target already started: no second container, only the gate', () => {
    const started = c('1.1.0', 'running', 'starting');
    const plan = planStart([c('1.0.0', 'running'), started], target, 1);
    expect(plan.map((s) => s.action)).toEqual(['await-healthy']);
    expect(plan[0]).toMatchObject({ container: started.id });
  });

  it('removes duplicates of the target left by earlier attempts', () => {
    const older = c('1.1.0', 'created', 'none');
    const newer = c('1.1.0', 'created', 'none');
    const plan = planStart([older, newer], target, 1);
    expect(plan[0]).toMatchObject({ action: 'remove', container: older.id });
    expect(plan.slice(1).map((s) => s.action)).toEqual(['start', 'await-healthy']);
  });
});

describe('planFinish', () => {
  it('stops the old version and keeps it as the rollback target; removes the rest', () => {
    const old = c('1.0.0', 'running');
    const older = c('0.9.0', 'exited');
    const next = c('1.1.0', 'running');
    expect(planFinish([old, older, next], '1.1.0', '1.0.0')).toEqual([
      { action: 'stop', container: old.id, version: '1.0.0' },
      { action: 'remove', container: older.id, version: '0.9.0', reason: 'superseded' },
    ]);
  });

  it('stops and removes a running version that is not the one to keep (a failed one)', () => {
    const bad = c('2.0.0', 'restarting');
    const good = c('1.0.0', 'running');
    expect(planFinish([bad, good], '1.0.0', undefined).map((s) => s.action)).toEqual([
      'stop',
      'remove',
    ]);
  });
});

describe('planAbort', () => {
  const from = { version: '1.0.0', commit: 'c1.0.0', image: 'img:1.0.0' };

  it('removes the failed target and leaves the running old version alone', () => {
    const fresh = c('1.1.0', 'running', 'unhealthy');
    expect(planAbort([c('1.0.0', 'running'), fresh], '1.1.0', from, 1)).toEqual([
      { action: 'remove', container: fresh.id, version: '1.1.0', reason: 'failed its gate' },
    ]);
  });

  it('starts the old version again if a kill left it stopped', () => {
    const old = c('1.0.0', 'exited');
    const plan = planAbort([old, c('1.1.0', 'running', 'starting')], '1.1.0', from, 1);
    expect(plan.map((s) => s.action)).toEqual(['remove', 'start', 'await-healthy']);
    expect(plan[1]).toMatchObject({ container: old.id });
  });
});

describe('planSettle', () => {
  it('leaves a lone running app of the recorded version alone, whatever its health', () => {
    expect(planSettle([c('1.0.0', 'running', 'unhealthy')], '1.0.0')).toEqual({
      kind: 'ok',
      cleanup: [],
    });
  });

  it('removes half-created containers', () => {
    const half = c('1.1.0', 'created', 'none');
    const settle = planSettle([c('1.0.0', 'running'), half], '1.0.0');
    expect(settle).toEqual({
      kind: 'ok',
      cleanup: [{ action: 'remove', container: half.id, version: '1.1.0', reason: 'half-created' }],
    });
  });

  it('adopts the running app when the record knows none (a lost state volume)', () => {
    const running = c('1.0.0', 'running');
    expect(planSettle([c('0.9.0', 'exited'), running], undefined)).toEqual({
      kind: 'adopt',
      container: running,
    });
    expect(planSettle([], undefined)).toEqual({ kind: 'empty' });
  });

  it('restores the recorded version when another one runs, or none', () => {
    const other = c('2.0.0', 'running');
    expect(planSettle([other, c('1.0.0', 'exited')], '1.0.0')).toEqual({
      kind: 'restore',
      from: other,
    });
    expect(planSettle([c('1.0.0', 'exited')], '1.0.0')).toEqual({
      kind: 'restore',
      from: undefined,
    });
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
    expect(watchVerdict(0, base)).toEqual({ ok: true });
    expect(watchVerdict(0, { ...base, restartCount: 2 })).toEqual({
      ok: false,
      reason: 'restarted 2 time(s)',
    });
    expect(watchVerdict(0, { ...base, state: 'exited', exitCode: 1 })).toMatchObject({
      ok: false,
    });
    expect(watchVerdict(0, { ...base, health: 'unhealthy' })).toMatchObject({ ok: false });
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

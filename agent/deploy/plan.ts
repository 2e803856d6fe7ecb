import type { AppContainer } from './container-runtime.js';

/** The container created by an earlier step of the same plan. */
export const NEW = '$new';

export type Step =
  | {
      readonly action: 'create';
      readonly version: string;
      readonly commit: string;
      readonly image: string;
    }
  | { readonly action: 'start'; readonly container: string; readonly version: string }
  | {
      readonly action: 'await-healthy';
      readonly container: string;
      readonly version: string;
      readonly timeoutMs: number;
    }
  | { readonly action: 'stop'; readonly container: string; readonly version: string }
  | {
      readonly action: 'remove';
      readonly container: string;
      readonly version: string;
      readonly reason: string;
    };

/** A switch as data: what to do first, then depending on the health gate. */
export interface SwitchPlan {
  readonly start: readonly Step[];
  readonly onHealthy: readonly Step[];
  readonly onFailure: readonly Step[];
}

export interface TargetImage {
  readonly version: string;
  readonly commit: string;
  readonly image: string;
}

const isUp = (c: AppContainer) => c.state === 'running' || c.state === 'restarting';

/**
 * Start the target next to what runs, gate on health, then stop the old one (its container
 * is kept, stopped, so a rollback is a plain start). If a stopped container of the target
 * exists (a rollback), it is started instead of creating a new one. Pure.
 */
export function planSwitch(
  containers: readonly AppContainer[],
  target: TargetImage,
  healthTimeoutMs: number,
): SwitchPlan {
  const running = containers.filter(isUp);
  if (running.some((c) => c.version === target.version && c.health !== 'unhealthy')) {
    return { start: [], onHealthy: [], onFailure: [] };
  }
  const stopped = containers
    .filter((c) => c.version === target.version && c.state === 'exited')
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  const id = stopped?.id ?? NEW;
  const start: Step[] = stopped
    ? []
    : [{ action: 'create', version: target.version, commit: target.commit, image: target.image }];
  start.push(
    { action: 'start', container: id, version: target.version },
    { action: 'await-healthy', container: id, version: target.version, timeoutMs: healthTimeoutMs },
  );
  const onHealthy: Step[] = running.map((c) => ({
    action: 'stop',
    container: c.id,
    version: c.version,
  }));
  // Older stopped containers go: one stopped container (the one just replaced) is enough.
  for (const c of containers) {
    if (c.state !== 'running' && c.state !== 'restarting' && c.id !== id) {
      onHealthy.push({
        action: 'remove',
        container: c.id,
        version: c.version,
        reason: 'superseded',
      });
    }
  }
  const onFailure: Step[] = [
    { action: 'remove', container: id, version: target.version, reason: 'failed its health gate' },
  ];
  return { start, onHealthy, onFailure };
}

export interface RepairContext {
  /** The version that last ran successfully, per the agent's state. */
  readonly current: string | undefined;
  /** A switch the agent was killed in the middle of. */
  readonly inProgress: { readonly from: string | null; readonly to: string } | undefined;
}

export interface RepairPlan {
  readonly steps: readonly Step[];
  /** The version that should be running once the steps are done, if any container exists. */
  readonly keep: string | undefined;
}

/**
 * After a restart, turns whatever the agent finds into exactly one running app of a known
 * version, without touching a healthy app that is the only one running. Pure.
 */
export function planRepair(
  containers: readonly AppContainer[],
  ctx: RepairContext,
  healthTimeoutMs: number,
): RepairPlan {
  const steps: Step[] = [];
  const usable: AppContainer[] = [];
  for (const c of containers) {
    if (c.state === 'created' || c.state === 'dead') {
      steps.push({ action: 'remove', container: c.id, version: c.version, reason: 'half-created' });
    } else usable.push(c);
  }
  const running = usable.filter(isUp);
  const trusted = ctx.inProgress?.from ?? ctx.current;
  const rank = (c: AppContainer) => {
    // A switch cut short after its gate: the new one is healthy, so finish the switch.
    if (ctx.inProgress && c.version === ctx.inProgress.to && c.health === 'healthy') return 0;
    if (c.version === trusted && c.health !== 'unhealthy') return 1;
    if (c.health === 'healthy') return 2;
    return 3;
  };

  if (running.length > 0) {
    const keep = [...running].sort((a, b) => rank(a) - rank(b))[0] as AppContainer;
    for (const c of running) {
      if (c.id === keep.id) continue;
      const abandoned = ctx.inProgress && c.version === ctx.inProgress.to;
      steps.push(
        abandoned
          ? { action: 'remove', container: c.id, version: c.version, reason: 'switch cut short' }
          : { action: 'stop', container: c.id, version: c.version },
      );
    }
    return { steps, keep: keep.version };
  }

  const candidates = usable
    .filter((c) => !(ctx.inProgress && c.version === ctx.inProgress.to && c.version !== trusted))
    .sort((a, b) => {
      const trust = Number(b.version === trusted) - Number(a.version === trusted);
      return trust !== 0 ? trust : b.createdAt.localeCompare(a.createdAt);
    });
  const pick = candidates[0];
  if (!pick) return { steps, keep: undefined };
  steps.push(
    { action: 'start', container: pick.id, version: pick.version },
    {
      action: 'await-healthy',
      container: pick.id,
      version: pick.version,
      timeoutMs: healthTimeoutMs,
    },
  );
  return { steps, keep: pick.version };
}

export type WatchVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** During the watch window after a switch: did the new version die, restart or turn unhealthy? */
export function watchVerdict(before: AppContainer, now: AppContainer | undefined): WatchVerdict {
  if (!now) return { ok: false, reason: 'container disappeared' };
  if (now.state === 'exited' || now.state === 'dead') {
    return { ok: false, reason: `exited with code ${now.exitCode}` };
  }
  if (now.restartCount > before.restartCount || now.state === 'restarting') {
    return { ok: false, reason: `restarted ${now.restartCount - before.restartCount} time(s)` };
  }
  if (now.health === 'unhealthy') return { ok: false, reason: 'turned unhealthy' };
  return { ok: true };
}

/** Health-gate verdict from one inspection; undefined means keep waiting. */
export function gateVerdict(
  before: AppContainer | undefined,
  now: AppContainer | undefined,
): WatchVerdict | undefined {
  if (!now) return { ok: false, reason: 'container disappeared' };
  if (now.state === 'exited' || now.state === 'dead') {
    return { ok: false, reason: `exited with code ${now.exitCode} before turning healthy` };
  }
  if (before && now.restartCount > before.restartCount) {
    return { ok: false, reason: 'restarted before turning healthy (crash loop)' };
  }
  if (now.health === 'unhealthy') return { ok: false, reason: 'reported unhealthy' };
  if (now.health === 'healthy') return { ok: true };
  if (now.health === 'none' && now.state === 'running') {
    return { ok: false, reason: 'the image has no HEALTHCHECK; the switch needs one' };
  }
  return undefined;
}

/**
 * Which images to delete: keep the `keep` most recent versions that ran successfully, always
 * keep the protected ones (running and previous), delete failed versions' images. Pure.
 */
export function planRetention(
  imageVersions: readonly string[],
  successfulNewestFirst: readonly string[],
  keep: number,
  protect: ReadonlySet<string>,
): string[] {
  const kept = new Set(
    successfulNewestFirst.filter((v) => imageVersions.includes(v)).slice(0, keep),
  );
  for (const v of protect) kept.add(v);
  return imageVersions.filter((v) => !kept.has(v));
}

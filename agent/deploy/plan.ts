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

export interface TargetImage {
  readonly version: string;
  readonly commit: string;
  readonly image: string;
}

export const isUp = (c: AppContainer) => c.state === 'running' || c.state === 'restarting';
/**
 * Docker's creation time (RFC 3339 with up to nine fraction digits, trailing zeros dropped) as
 * text that sorts in time order: the fraction padded to nine digits. Plain code-unit order,
 * not localeCompare: that ordered .12345Z after .123456789Z, and its first call maps ICU's
 * collation data into the process for good (2.2 MB of resident memory in a bare node).
 */
function sortableTime(time: string): string {
  const m = /^([^.]*?)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}${m[3]}` : time;
}
const newestFirst = (a: AppContainer, b: AppContainer) => {
  const [x, y] = [sortableTime(a.createdAt), sortableTime(b.createdAt)];
  return x === y ? 0 : x < y ? 1 : -1;
};
const usable = (c: AppContainer) => c.state !== 'dead' && c.state !== 'removing';

/** The container a change to `version` uses: the newest usable one, running ones first. */
export function containerOf(
  containers: readonly AppContainer[],
  version: string,
): AppContainer | undefined {
  return containers
    .filter((c) => c.version === version && usable(c))
    .sort((a, b) => Number(isUp(b)) - Number(isUp(a)) || newestFirst(a, b))[0];
}

/**
 * First half of a change: get `to` running next to whatever runs and gate it on health. A
 * kept or half-created container of the target is reused (a rollback is a plain start; a
 * resumed change does not create a second one); duplicates of the target go. Pure.
 */
export function planStart(
  containers: readonly AppContainer[],
  to: TargetImage,
  healthTimeoutMs: number,
): Step[] {
  const reuse = containerOf(containers, to.version);
  const steps: Step[] = containers
    .filter((c) => c.version === to.version && c.id !== reuse?.id)
    .map((c) => ({ action: 'remove', container: c.id, version: c.version, reason: 'duplicate' }));
  const id = reuse?.id ?? NEW;
  if (!reuse) steps.push({ action: 'create', ...to });
  if (!reuse || !isUp(reuse)) steps.push({ action: 'start', container: id, version: to.version });
  steps.push({
    action: 'await-healthy',
    container: id,
    version: to.version,
    timeoutMs: healthTimeoutMs,
  });
  return steps;
}

/**
 * Second half, once `to` passed its gate: stop every other running version, keep one stopped
 * container (`keepStopped`, the version a rollback returns to) and remove the rest. Pure.
 */
export function planFinish(
  containers: readonly AppContainer[],
  to: string,
  keepStopped: string | undefined,
): Step[] {
  const target = containerOf(containers, to);
  const kept = keepStopped === undefined ? undefined : containerOf(containers, keepStopped);
  const steps: Step[] = [];
  for (const c of containers) {
    if (c.id === target?.id) continue;
    if (isUp(c)) steps.push({ action: 'stop', container: c.id, version: c.version });
    if (c.id !== kept?.id) {
      steps.push({ action: 'remove', container: c.id, version: c.version, reason: 'superseded' });
    }
  }
  return steps;
}

/**
 * A change failed before its switch: remove the target's containers and make sure the version
 * it was leaving runs (it normally never stopped; after a crash or a kill it may have). Pure.
 */
export function planAbort(
  containers: readonly AppContainer[],
  to: string,
  from: TargetImage | null,
  healthTimeoutMs: number,
): Step[] {
  const steps: Step[] = containers
    .filter((c) => c.version === to)
    .map((c) => ({ action: 'remove', container: c.id, version: to, reason: 'failed its gate' }));
  if (!from || from.version === to) return steps;
  const back = containerOf(containers, from.version);
  if (back && isUp(back)) return steps;
  return [...steps, ...planStart(containers, from, healthTimeoutMs)];
}

/**
 * With no change in flight, what the engine shows against the record. `ok`: exactly one app
 * runs and it is the recorded version (its health is the watch's business, not repair's);
 * `adopt`: the record knows no running version (a new or lost state volume) but the engine
 * has an app of ours; `restore`: the recorded version must be brought back. Pure.
 */
export type Settle =
  | { readonly kind: 'ok'; readonly cleanup: readonly Step[] }
  | { readonly kind: 'adopt'; readonly container: AppContainer }
  | { readonly kind: 'restore'; readonly from: AppContainer | undefined }
  | { readonly kind: 'empty' };

export function planSettle(
  containers: readonly AppContainer[],
  running: string | undefined,
): Settle {
  const up = containers.filter(isUp);
  if (running === undefined) {
    const pick = containers
      .filter(usable)
      .sort(
        (a, b) =>
          Number(isUp(b)) - Number(isUp(a)) ||
          Number(b.health === 'healthy') - Number(a.health === 'healthy') ||
          newestFirst(a, b),
      )[0];
    return pick ? { kind: 'adopt', container: pick } : { kind: 'empty' };
  }
  if (up.length === 1 && up[0]?.version === running) {
    const cleanup: Step[] = containers
      .filter((c) => c.state === 'created' || c.state === 'dead')
      .map((c) => ({
        action: 'remove',
        container: c.id,
        version: c.version,
        reason: 'half-created',
      }));
    return { kind: 'ok', cleanup };
  }
  return { kind: 'restore', from: up.filter((c) => c.version !== running).sort(newestFirst)[0] };
}

export type WatchVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** During the watch window after a switch: did the new version die, restart or turn unhealthy? */
export function watchVerdict(restartsBefore: number, now: AppContainer | undefined): WatchVerdict {
  if (!now) return { ok: false, reason: 'container disappeared' };
  if (now.state === 'exited' || now.state === 'dead') {
    return { ok: false, reason: `exited with code ${now.exitCode}` };
  }
  if (now.restartCount > restartsBefore || now.state === 'restarting') {
    return { ok: false, reason: `restarted ${now.restartCount - restartsBefore} time(s)` };
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

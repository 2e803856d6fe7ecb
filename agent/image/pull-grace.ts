export type MissingImageVerdict =
  | { readonly transient: true; readonly leftMs: number }
  | { readonly transient: false; readonly reason: string };

const minutes = (ms: number) => `${Math.round(ms / 6_000) / 10} min`;

/**
 * Whether a pull that found no image for a release should be tried again. A CI pipeline
 * pushes the image minutes after the tag, so for `graceMs` after this device first saw the
 * tag a missing image is transient; after that (or when the first sighting is unknown) it is
 * failed for good, with a reason that says what to do. Both times are on one monotonic clock.
 * Pure.
 */
export function missingImageVerdict(
  firstSeenAt: number | undefined,
  now: number,
  graceMs: number,
): MissingImageVerdict {
  const waited =
    firstSeenAt === undefined ? Number.POSITIVE_INFINITY : Math.max(0, now - firstSeenAt);
  if (waited < graceMs) return { transient: true, leftMs: graceMs - waited };
  const since = Number.isFinite(waited) ? ` ${minutes(waited)} after the tag appeared` : '';
  return {
    transient: false,
    reason: `no image${since} (OTA_PULL_GRACE ${minutes(graceMs)}): push it, then ota retry the version`,
  };
}

import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ReleaseSource } from '../release/release-source.js';
import type { AppImage, ImageStore, ProgressEvent, ReleaseToInstall } from './image-store.js';

/**
 * Builds a release from its commit's tree: a `git archive` written to <stateDir>/contexts is
 * the build context, removed once the build ends (a kill leaves it for Updater.removeLeftovers).
 * The app's image and the agent's own (self-update) are built this way.
 */
export async function buildFromTree(
  source: Pick<ReleaseSource, 'archive'>,
  images: ImageStore,
  stateDir: string,
  release: ReleaseToInstall,
  contextName: string,
  hooks: {
    /** The context is written; the engine builds next. */
    readonly archived?: () => void;
    readonly onProgress?: (e: ProgressEvent) => void;
  } = {},
): Promise<AppImage> {
  const dir = join(stateDir, 'contexts');
  mkdirSync(dir, { recursive: true });
  const context = join(dir, `${contextName}.tar`);
  try {
    await source.archive(release.commit, context);
    hooks.archived?.();
    return await images.build(release, context, hooks.onProgress);
  } finally {
    rmSync(context, { force: true });
  }
}

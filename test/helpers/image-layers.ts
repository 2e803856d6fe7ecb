import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { REPO_ROOT } from './docker-cli.js';
import { APP_FILES } from './git-repo.js';

const run = promisify(execFile);

/** One layer of an image, with the step that made it. */
export interface Layer {
  readonly diffId: string;
  readonly size: number;
  readonly createdBy: string;
}

/**
 * Whether a history row (classic builder) made a layer: RUN steps and imported bases do, and
 * of the `#(nop)` steps only COPY, ADD and WORKDIR; the metadata steps (LABEL, ENV, ...) don't.
 */
function madeLayer(row: { CreatedBy: string }): boolean {
  if (!row.CreatedBy.includes('#(nop)')) return true;
  return /#\(nop\) (COPY|ADD|WORKDIR) /.test(row.CreatedBy);
}

/**
 * An image's layers, oldest first, with each one's size from the engine's history. Works on
 * both image stores (the API is the same); throws when the history cannot be lined up with
 * the layers (a base built by another builder), so no figure is ever guessed.
 */
export async function layersOf(engine: Docker, ref: string): Promise<Layer[]> {
  const image = engine.getImage(ref);
  const diffIds = (await image.inspect()).RootFS.Layers ?? [];
  const history = (await image.history()) as { CreatedBy: string; Size: number }[];
  const rows = history.reverse().filter(madeLayer);
  if (rows.length !== diffIds.length) {
    throw new Error(
      `${ref}: ${rows.length} history rows made layers, but it has ${diffIds.length}`,
    );
  }
  return diffIds.map((diffId, i) => ({
    diffId,
    size: rows[i]?.Size ?? 0,
    createdBy: rows[i]?.CreatedBy ?? '',
  }));
}

/** How many leading layers two images share (layers are stored by their chain: a prefix). */
export function sharedPrefix(a: readonly Layer[], b: readonly Layer[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n]?.diffId === b[n]?.diffId) n += 1;
  return n;
}

/** Bytes `next` adds on a device that already holds `previous`: its layers past the shared prefix. */
export function uniqueBytes(previous: readonly Layer[], next: readonly Layer[]): number {
  return next.slice(sharedPrefix(previous, next)).reduce((sum, l) => sum + l.size, 0);
}

/** Index of the layer holding node_modules (the COPY into it). */
export function dependencyLayer(layers: readonly Layer[]): number {
  const i = layers.findIndex((l) => /COPY \S+ in \S*node_modules\b/.test(l.createdBy));
  if (i < 0) throw new Error('no layer copies node_modules');
  return i;
}

/**
 * The weather app's tree as a release tag holds it (the files Dockerfile.app builds from),
 * copied from this project into `dir`, with `change` applied, as a tar the agent would build.
 */
export async function appContext(
  dir: string,
  name: string,
  change: 'none' | 'code' | 'lock' = 'none',
  dockerfile?: string,
): Promise<string> {
  const tree = join(dir, name);
  mkdirSync(tree, { recursive: true });
  for (const f of APP_FILES) cpSync(join(REPO_ROOT, f), join(tree, f), { recursive: true });
  if (dockerfile !== undefined) writeFileSync(join(tree, 'Dockerfile.app'), dockerfile);
  if (change === 'code') {
    // One line of app code: compiled into dist, nothing else changes.
    appendFileSync(join(tree, 'app', 'health.ts'), `export const RELEASE_NOTE = '${name}';\n`);
  }
  if (change === 'lock') {
    // The project's own version bumped in package.json and the lock file: npm ci's output
    // changes (its hidden lock file records it) without fetching anything new.
    type Manifest = { version: string; packages?: Record<string, { version: string }> };
    const bump = (file: string, edit: (json: Manifest) => void) => {
      const json = JSON.parse(readFileSync(join(tree, file), 'utf8'));
      edit(json);
      writeFileSync(join(tree, file), `${JSON.stringify(json, null, 2)}\n`);
    };
    bump('package.json', (p) => {
      p.version = '0.1.1';
    });
    bump('package-lock.json', (l) => {
      l.version = '0.1.1';
      const root = l.packages?.[''];
      if (root) root.version = '0.1.1';
    });
  }
  const tar = join(dir, `${name}.tar`);
  await run('tar', ['-C', tree, '-cf', tar, '.']);
  return tar;
}

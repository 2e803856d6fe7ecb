import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the browser files are: console/public, found from this module whether it runs from
 * console/src (tests, tsx) or from console/dist (the image); uPlot from console/node_modules.
 */
export function assetPaths() {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!isConsoleRoot(dir)) {
    const up = dirname(dir);
    if (up === dir) throw new Error('console/package.json not found above the console code');
    dir = up;
  }
  const uplot = dirname(createRequire(import.meta.url).resolve('uplot/package.json'));
  return { publicDir: join(dir, 'public'), uplotDist: join(uplot, 'dist') };
}

function isConsoleRoot(dir: string): boolean {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return false;
  return (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'edge-ota-console';
}

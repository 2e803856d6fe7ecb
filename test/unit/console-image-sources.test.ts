import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Dockerfile.console copies only the shared modules the console imports (not all of agent/):
// every file outside console/ that the console's code reaches must be among them, or the
// image's tsc fails where nobody looked (the console is built by compose, not by npm test).
const ROOT = resolve(import.meta.dirname, '../..');

function localImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from '(\.[^']+)\.js'/g)].map((m) =>
    resolve(dirname(file), `${m[1]}.ts`),
  );
}

function reachable(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    queue.push(...localImports(file));
  }
  return seen;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** What the build stage's COPY lines bring in: whole folders and single files. */
function copied(): string[] {
  const text = readFileSync(join(ROOT, 'Dockerfile.console'), 'utf8').replace(/\\\n/g, ' ');
  return text
    .split('\n')
    .filter((line) => /^COPY (?!--from)/.test(line))
    .flatMap((line) => line.trim().split(/\s+/).slice(1, -1));
}

describe('Dockerfile.console', () => {
  it('copies every shared module the console imports, transitively', () => {
    const shared = [...reachable(tsFiles(join(ROOT, 'console/src')))]
      .map((f) => relative(ROOT, f))
      .filter((f) => !f.startsWith('console/'));
    expect(shared.length).toBeGreaterThan(3);
    const sources = copied();
    const missing = shared.filter((f) => !sources.some((s) => f === s || f.startsWith(`${s}/`)));
    expect(missing).toEqual([]);
  });
});

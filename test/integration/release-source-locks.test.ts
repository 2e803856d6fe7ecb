import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitHttpServer } from '../helpers/git-http-server.js';
import { TestRepo } from '../helpers/git-repo.js';
import { makeWatcher } from '../helpers/release-fixture.js';
import { tempDir } from '../helpers/temp-dir.js';

const TOKEN = 'ghp_LOCKTEST0123456789abcdef';

// An agent SIGKILLed inside a git command (a Docker stop timeout, a hand-over, a power cut)
// leaves git's lock files in its clone; every later git command then fails with "File exists"
// until someone deletes them. Two agents share the clone during a self-update.
describe("git's lock files left by a killed agent", () => {
  let server: GitHttpServer;
  let repo: TestRepo;
  let dir: string;
  beforeEach(async () => {
    dir = tempDir('ota-locks-');
    server = new GitHttpServer({ root: join(dir, 'srv'), token: TOKEN });
    await server.start();
    repo = await TestRepo.create(dir, join(dir, 'srv'), 'weather');
  });
  afterEach(async () => {
    await server.stop();
  });

  it('are removed when the next agent process starts, so its fetches work', async () => {
    const setup = { url: server.url('weather'), stateDir: join(dir, 'state'), token: TOKEN };
    await repo.tag('v1.0.0');
    const first = makeWatcher(setup);
    expect((await first.watcher.poll(undefined, new Set())).target?.version).toBe('1.0.0');
    await first.source.fetchTag('v1.0.0');
    // What a kill mid-fetch leaves behind.
    const clone = join(setup.stateDir, 'repo.git');
    writeFileSync(join(clone, 'shallow.lock'), '');
    writeFileSync(join(clone, 'packed-refs.lock'), '');

    await repo.commit('1.1');
    await repo.tag('v1.1.0');
    const next = makeWatcher(setup); // the agent started again
    const polled = await next.watcher.poll(undefined, new Set());
    expect(polled.error).toBeUndefined();
    expect(polled.target?.version).toBe('1.1.0');
    await expect(next.source.fetchTag('v1.1.0')).resolves.toMatchObject({ name: 'v1.1.0' });
  });
});

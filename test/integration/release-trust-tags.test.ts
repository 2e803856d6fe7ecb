import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseVersion } from '../../agent/release/version.js';
import { GitHttpServer } from '../helpers/git-http-server.js';
import { makeSigningKey, TestRepo } from '../helpers/git-repo.js';
import { makeWatcher } from '../helpers/release-fixture.js';
import { tempDir } from '../helpers/temp-dir.js';

const none = new Set<string>();
const v = (text: string) => parseVersion(text) ?? (undefined as never);

/** Tags that were deleted, refused or disagree must not steer a device. */
describe('release trust: deleted and refused tags', () => {
  let server: GitHttpServer;
  let repo: TestRepo;
  let dir: string;

  beforeEach(async () => {
    dir = tempDir('ota-trust-tags-');
    server = new GitHttpServer({ root: join(dir, 'srv') });
    await server.start();
    repo = await TestRepo.create(dir, join(dir, 'srv'), 'weather');
    await repo.tag('v1.0.0');
  });
  afterEach(async () => {
    await server.stop();
  });

  const watcherFor = (extra: Record<string, unknown> = {}) =>
    makeWatcher({ url: server.url('weather'), stateDir: join(dir, 'state') }, extra);
  const deleteTag = (name: string) =>
    repo.git('push', '--quiet', repo.bare, '--delete', `refs/tags/${name}`);

  it('drops a deleted tag that was never deployed at the next poll', async () => {
    const { watcher, events } = watcherFor();
    await watcher.poll(v('1.0.0'), none);
    await repo.commit('1.1.0');
    await repo.tag('v1.1.0');
    expect((await watcher.poll(v('1.0.0'), none)).target?.version).toBe('1.1.0');

    // Pushed by mistake and deleted before this device deployed it.
    await deleteTag('v1.1.0');
    const result = await watcher.poll(v('1.0.0'), none);
    expect(result).toMatchObject({ mode: 'prefixes', target: undefined });
    expect(
      events().filter((e) => e.msg === 'tag deleted from the repository; no longer a candidate'),
    ).toEqual([expect.objectContaining({ tag: 'v1.1.0' })]);
    // Pushed again at the same commit, it is a candidate again.
    await repo.tag('v1.1.0');
    expect((await watcher.poll(v('1.0.0'), none)).target?.version).toBe('1.1.0');
  });

  it('changes nothing when the running version’s tag is deleted', async () => {
    await repo.commit('1.1.0');
    await repo.tag('v1.1.0');
    const { watcher } = watcherFor();
    expect((await watcher.poll(v('1.1.0'), none)).target).toBeUndefined();
    await deleteTag('v1.1.0');
    const result = await watcher.poll(v('1.1.0'), none);
    expect(result).toMatchObject({ target: undefined, error: undefined });
    // Nothing lower is offered, and a new patch is still found by a cheap poll.
    await repo.commit('1.1.1');
    await repo.tag('v1.1.1');
    expect(await watcher.poll(v('1.1.0'), none)).toMatchObject({
      mode: 'prefixes',
      target: { version: '1.1.1' },
    });
  });

  it('is not blinded by a mistaken huge version once it is deleted', async () => {
    const { watcher } = watcherFor();
    await repo.commit('1.9.0');
    await repo.tag('v1.9.0');
    await repo.commit('oops');
    await repo.tag('v9999999999.0.0');
    expect((await watcher.poll(v('1.0.0'), none)).target?.version).toBe('9999999999.0.0');
    // Deployed, failed, rolled back to 1.9.0, then deleted.
    const failed = new Set(['9999999999.0.0']);
    await deleteTag('v9999999999.0.0');
    await repo.commit('1.10.0');
    await repo.tag('v1.10.0');
    const result = await watcher.poll(v('1.9.0'), failed);
    expect(result).toMatchObject({ mode: 'prefixes', target: { version: '1.10.0' } });
  });

  it('takes no poll floor from a refused tag', async () => {
    const key = await makeSigningKey(dir, 'release@example.com');
    await repo.tag('v1.0.0', { signingKey: key.key });
    await repo.commit('1.1.0');
    await repo.tag('v1.1.0', { signingKey: key.key });
    const object = await repo.git('rev-parse', 'v1.0.0');
    await repo.git('push', '--quiet', '--force', repo.bare, `${object}:refs/tags/v9.0.0`);
    const { watcher } = watcherFor({ requireSigned: true, allowedSignersFile: key.allowedSigners });
    expect((await watcher.poll(v('1.1.0'), none)).excluded).toContainEqual({
      version: '9.0.0',
      reason: 'the signed tag is named v1.0.0, not v9.0.0',
    });
    await repo.commit('1.2.0');
    await repo.tag('v1.2.0', { signingKey: key.key });
    expect(await watcher.poll(v('1.1.0'), none)).toMatchObject({
      mode: 'prefixes',
      target: { version: '1.2.0' },
    });
  });
});

describe('release trust: aliases of one version', () => {
  let server: GitHttpServer;
  let repo: TestRepo;
  let dir: string;

  beforeEach(async () => {
    dir = tempDir('ota-trust-alias-');
    server = new GitHttpServer({ root: join(dir, 'srv') });
    await server.start();
    repo = await TestRepo.create(dir, join(dir, 'srv'), 'weather');
    await repo.tag('v1.1.0');
  });
  afterEach(async () => {
    await server.stop();
  });

  it('refuses a version whose aliases point to different commits, and reports it', async () => {
    const good = await repo.commit('1.2.0');
    await repo.tag('v1.2.0');
    await repo.tag('v1.2.0+build.7'); // an alias at the same commit is fine
    const { watcher, events } = makeWatcher(
      { url: server.url('weather'), stateDir: join(dir, 'state') },
      { sweepIntervalMs: 0 },
    );
    expect((await watcher.poll(v('1.1.0'), none)).target).toMatchObject({ commit: good });

    // Someone pushes the same version without the "v", at another commit.
    const other = await repo.commit('not 1.2.0');
    await repo.tag('1.2.0', { commit: other });
    const result = await watcher.poll(v('1.1.0'), none);
    expect(result.target).toBeUndefined();
    const reason = `tags 1.2.0, v1.2.0, v1.2.0+build.7 of version 1.2.0 point to different commits (${other.slice(0, 12)}, ${good.slice(0, 12)}): refused`;
    expect(result.excluded).toContainEqual({ version: '1.2.0', reason });
    expect(result.refusals).toContain(reason);
    expect(events().filter((e) => String(e.msg).startsWith('ALIAS CONFLICT'))).toEqual([
      expect.objectContaining({ level: 50, version: '1.2.0' }),
    ]);
    await watcher.poll(v('1.1.0'), none); // reported once, not at every poll

    // Deleting the stray alias ends the conflict.
    await repo.git('push', '--quiet', repo.bare, '--delete', 'refs/tags/1.2.0');
    expect((await watcher.poll(v('1.1.0'), none)).target).toMatchObject({ commit: good });
    expect(events().filter((e) => String(e.msg).startsWith('ALIAS CONFLICT'))).toHaveLength(1);
  });
});

import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rolloutBucket } from '../../agent/release/rollout-policy.js';
import { parseVersion } from '../../agent/release/version.js';
import { GitHttpServer } from '../helpers/git-http-server.js';
import { makeSigningKey, TestRepo } from '../helpers/git-repo.js';
import { makeWatcher } from '../helpers/release-fixture.js';
import { tempDir } from '../helpers/temp-dir.js';

const none = new Set<string>();
const v = (text: string) => parseVersion(text) ?? (undefined as never);
/** A device id whose bucket for `version` is below (in) or above (out) `percent`. */
function deviceId(version: string, percent: number, inside: boolean): string {
  for (let i = 0; ; i++) {
    const id = `pi-${i}`;
    if (rolloutBucket(id, version) < percent === inside) return id;
  }
}

describe('rollout policy from the repository, against a real git server', () => {
  let server: GitHttpServer;
  let repo: TestRepo;
  let dir: string;

  beforeEach(async () => {
    dir = tempDir('ota-policy-');
    server = new GitHttpServer({ root: join(dir, 'srv') });
    await server.start();
    repo = await TestRepo.create(dir, join(dir, 'srv'), 'weather');
    await repo.tag('v1.0.0');
    await repo.commit('1.1.0');
    await repo.tag('v1.1.0');
  });
  afterEach(async () => {
    await server.stop();
  });

  const watcherFor = (id: string, extra: Record<string, unknown> = {}, groups: string[] = []) =>
    makeWatcher(
      { url: server.url('weather'), stateDir: join(dir, `state-${id}`) },
      { device: { id, groups }, ...extra },
    );

  it('raises a percentage without a new tag: devices join, none leave', async () => {
    await repo.setPolicy(JSON.stringify({ releases: { '1.1.0': { percent: 25 } } }));
    const early = watcherFor(deviceId('1.1.0', 25, true));
    const late = watcherFor(deviceId('1.1.0', 25, false));
    expect((await early.watcher.poll(v('1.0.0'), none)).target?.version).toBe('1.1.0');
    const waiting = await late.watcher.poll(v('1.0.0'), none);
    expect(waiting.target).toBeUndefined();
    expect(waiting.excluded).toContainEqual({
      version: '1.1.0',
      reason: '1.1.0 is at 25%; this device is not in yet',
    });

    // With the policy branch unchanged, a poll is still two requests.
    server.reset();
    await late.watcher.poll(v('1.0.0'), none);
    expect((await server.traffic()).requests).toBe(2);

    await repo.setPolicy(JSON.stringify({ releases: { '1.1.0': { percent: 100 } } }));
    const now = await late.watcher.poll(v('1.0.0'), none);
    expect(now.target?.version).toBe('1.1.0');
    expect((await early.watcher.poll(v('1.0.0'), none)).target?.version).toBe('1.1.0');
  });

  it('moves devices running a withdrawn release back to the best allowed one', async () => {
    const device = watcherFor('pi-w');
    expect((await device.watcher.poll(v('1.1.0'), none)).target).toBeUndefined();
    await repo.setPolicy(JSON.stringify({ releases: { '1.1.0': { withdrawn: true } } }));
    const result = await device.watcher.poll(v('1.1.0'), none);
    expect(result.target).toMatchObject({ version: '1.0.0', tag: 'v1.0.0' });
    // Once back on 1.0.0 it stays there: the withdrawn release is not offered again.
    expect((await device.watcher.poll(v('1.0.0'), none)).target).toBeUndefined();
  });

  it('never rolls a device back for a lowered percentage or a new group rule; a device not on it yet waits', async () => {
    await repo.setPolicy(JSON.stringify({ releases: { '1.1.0': { percent: 50 } } }));
    const inside = watcherFor(deviceId('1.1.0', 50, true), {}, ['site-a']);
    expect((await inside.watcher.poll(v('1.0.0'), none)).target?.version).toBe('1.1.0');
    const waiting = watcherFor('pi-waiting', {}, ['site-a']);

    await repo.setPolicy(JSON.stringify({ releases: { '1.1.0': { percent: 0 } } }));
    expect((await inside.watcher.poll(v('1.1.0'), none)).target).toBeUndefined();
    await repo.setPolicy(JSON.stringify({ releases: { '1.1.0': { groups: ['lab'] } } }));
    expect((await inside.watcher.poll(v('1.1.0'), none)).target).toBeUndefined();
    // The rule still decides who gets the release next.
    expect((await waiting.watcher.poll(v('1.0.0'), none)).target).toBeUndefined();
  });

  it('limits a release to groups and holds a group at a version', async () => {
    await repo.setPolicy(
      JSON.stringify({ releases: { '1.1.0': { groups: ['site-a'] } }, holds: { lab: '1.0.0' } }),
    );
    expect(
      (await watcherFor('a', {}, ['site-a']).watcher.poll(v('1.0.0'), none)).target?.version,
    ).toBe('1.1.0');
    expect(
      (await watcherFor('b', {}, ['site-b']).watcher.poll(v('1.0.0'), none)).target,
    ).toBeUndefined();
    expect(
      (await watcherFor('c', {}, ['site-a', 'lab']).watcher.poll(v('1.1.0'), none)).target?.version,
    ).toBe('1.0.0');
  });

  it('ignores a policy that does not parse, with a clear log line, and keeps the last good one', async () => {
    await repo.setPolicy(JSON.stringify({ releases: { '1.1.0': { percent: 0 } } }));
    const device = watcherFor('pi-p');
    expect((await device.watcher.poll(v('1.0.0'), none)).target).toBeUndefined();
    await repo.setPolicy('{"releases": {"1.1.0": {"percent": 100,}}}'); // a trailing comma
    const result = await device.watcher.poll(v('1.0.0'), none);
    expect(result.target).toBeUndefined(); // still at 0%: not widened by accident
    const ignored = device.events().find((e) => String(e.msg).startsWith('policy ignored'));
    expect(ignored).toMatchObject({ level: 50, reason: expect.stringMatching(/not valid JSON/) });
  });

  it('refuses an unsigned policy when signing is required', async () => {
    const key = await makeSigningKey(dir, 'release@example.com');
    await repo.tag('v1.0.0', { signingKey: key.key });
    await repo.tag('v1.1.0', { signingKey: key.key, commit: 'HEAD' });
    const signed = { requireSigned: true, allowedSignersFile: key.allowedSigners };
    await repo.setPolicy(JSON.stringify({ releases: { '1.1.0': { percent: 0 } } }), {
      signingKey: key.key,
    });
    const device = watcherFor('pi-s', signed);
    expect((await device.watcher.poll(v('1.0.0'), none)).target).toBeUndefined();

    // Someone who can only push widens the rollout without signing: refused.
    await repo.setPolicy(JSON.stringify({ releases: { '1.1.0': { percent: 100 } } }));
    expect((await device.watcher.poll(v('1.0.0'), none)).target).toBeUndefined();
    const refused = device.events().find((e) => String(e.msg).startsWith('policy refused'));
    expect(refused).toMatchObject({ level: 50, reason: 'not signed' });

    await repo.setPolicy(JSON.stringify({ releases: { '1.1.0': { percent: 100 } } }), {
      signingKey: key.key,
    });
    expect((await device.watcher.poll(v('1.0.0'), none)).target?.version).toBe('1.1.0');
  });
});

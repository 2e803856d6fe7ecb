import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseVersion } from '../../agent/release/version.js';
import { GitHttpServer } from '../helpers/git-http-server.js';
import { makeSigningKey, TestRepo } from '../helpers/git-repo.js';
import { makeWatcher } from '../helpers/release-fixture.js';
import { tempDir } from '../helpers/temp-dir.js';

const none = new Set<string>();
const v = (text: string) => parseVersion(text) ?? (undefined as never);
const WITHDRAWN = JSON.stringify({ releases: { '1.1.0': { withdrawn: true } } });

/**
 * The attacker suite, policy part: with signing required, someone who can push but holds no
 * key removes, replays or swaps the signed policy. None of it may lift the withdrawal of 1.1.0.
 */
describe('release trust: a signed policy only moves forwards', () => {
  let server: GitHttpServer;
  let repo: TestRepo;
  let dir: string;
  let key: Awaited<ReturnType<typeof makeSigningKey>>;

  beforeEach(async () => {
    dir = tempDir('ota-trust-policy-');
    server = new GitHttpServer({ root: join(dir, 'srv') });
    await server.start();
    repo = await TestRepo.create(dir, join(dir, 'srv'), 'weather');
    key = await makeSigningKey(dir, 'release@example.com');
    await repo.tag('v1.0.0', { signingKey: key.key });
    await repo.commit('1.1.0');
    await repo.tag('v1.1.0', { signingKey: key.key });
  });
  afterEach(async () => {
    await server.stop();
  });

  const device = () =>
    makeWatcher(
      { url: server.url('weather'), stateDir: join(dir, 'state') },
      { requireSigned: true, allowedSignersFile: key.allowedSigners },
    );

  /** The signed policy withdrawing 1.1.0 is in force on a device that runs 1.0.0. */
  async function withdrawn(earlier?: string) {
    if (earlier) await repo.setPolicy(earlier, { signingKey: key.key });
    const commit = await repo.setPolicy(WITHDRAWN, { signingKey: key.key });
    const d = device();
    const first = await d.watcher.poll(v('1.0.0'), none);
    expect(first).toMatchObject({ target: undefined, policy: commit });
    return { ...d, commit };
  }

  const refusal = (events: () => Record<string, unknown>[], why: string) =>
    events().find((e) => e.msg === `policy refused: ${why}; keeping the last good one`);

  it('keeps the last good policy when the branch is deleted, across a restart too', async () => {
    const { watcher, events, commit } = await withdrawn();
    await repo.git('push', '--quiet', repo.bare, '--delete', 'ota-policy');

    const result = await watcher.poll(v('1.0.0'), none);
    expect(result).toMatchObject({ target: undefined, policy: commit });
    expect(result.refusals).toEqual([
      `policy refused: the ota-policy branch is gone; keeping ${commit.slice(0, 12)}`,
    ]);
    expect(refusal(events, 'the ota-policy branch is gone')).toMatchObject({ level: 50 });

    // A restart does not lift it either: the policy in force is kept on the state volume.
    const restarted = device();
    expect(await restarted.watcher.poll(v('1.0.0'), none)).toMatchObject({
      target: undefined,
      policy: commit,
    });
  });

  it('refuses an older signed policy force-pushed over the current one', async () => {
    const { watcher, events, commit } = await withdrawn('{}');
    const older = await repo.git('rev-parse', 'ota-policy~1');
    await repo.git('push', '--quiet', '--force', repo.bare, `${older}:refs/heads/ota-policy`);

    const result = await watcher.poll(v('1.0.0'), none);
    expect(result).toMatchObject({ target: undefined, policy: commit });
    expect(result.refusals?.[0]).toMatch(/refused: it does not descend from the policy in force/);
    expect(
      refusal(events, 'it does not descend from the policy in force (older or rewritten)'),
    ).toMatchObject({ level: 50, commit: older, inForce: commit });

    // The key holder moves on with a new signed commit on top: accepted.
    await repo.git('branch', '-f', 'ota-policy', commit);
    const next = await repo.setPolicy(JSON.stringify({}), { signingKey: key.key });
    expect(await watcher.poll(v('1.0.0'), none)).toMatchObject({
      target: { version: '1.1.0' },
      policy: next,
      refusals: [],
    });
  });

  it('refuses a signed commit that holds no ota-policy.json', async () => {
    const { watcher, events, commit } = await withdrawn();
    // A maintainer's signed commit on main: signed, but no policy file in it.
    await repo.git(
      '-c',
      'gpg.format=ssh',
      '-c',
      `user.signingkey=${key.key}`,
      'commit',
      '--quiet',
      '--allow-empty',
      '-S',
      '-m',
      'signed work on main',
    );
    const signed = await repo.git('rev-parse', 'HEAD');
    await repo.git('push', '--quiet', '--force', repo.bare, `${signed}:refs/heads/ota-policy`);

    const result = await watcher.poll(v('1.0.0'), none);
    expect(result).toMatchObject({ target: undefined, policy: commit });
    expect(result.refusals?.[0]).toMatch(/refused: it does not descend/);

    // Even a key holder's signed commit on the branch that drops the file is refused: to lift
    // every rule, commit a signed `{}`.
    await repo.git('checkout', '--quiet', 'ota-policy');
    await repo.git('rm', '--quiet', 'ota-policy.json');
    await repo.git(
      '-c',
      'gpg.format=ssh',
      '-c',
      `user.signingkey=${key.key}`,
      'commit',
      '--quiet',
      '-S',
      '-m',
      'no policy',
    );
    const dropped = await repo.git('rev-parse', 'HEAD');
    await repo.git('push', '--quiet', '--force', repo.bare, 'ota-policy');
    await repo.git('checkout', '--quiet', 'main');
    const after = await watcher.poll(v('1.0.0'), none);
    expect(after).toMatchObject({ target: undefined, policy: commit });
    expect(refusal(events, 'the commit holds no ota-policy.json')).toMatchObject({
      commit: dropped,
    });
  });
});

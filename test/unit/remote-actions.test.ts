import { describe, expect, it } from 'vitest';
import { addressedTo, dueActions, parseActions } from '../../agent/release/remote-actions.js';
import { PolicyError, parsePolicy } from '../../agent/release/rollout-policy.js';

const policyWith = (actions: unknown) => parsePolicy(JSON.stringify({ actions }));

describe('remote actions in the rollout policy', () => {
  it('parses the documented example', () => {
    const policy = policyWith([
      { id: 'restart-2026-11-24', do: 'restart-app', devices: ['pi-17'], groups: ['lab'] },
      { id: 'diag.1', do: 'diagnostics', groups: ['site-a'] },
      { id: 'hc_2', do: 'health-check', devices: ['pi-3'] },
    ]);
    expect(policy.actions).toEqual([
      { id: 'restart-2026-11-24', do: 'restart-app', devices: ['pi-17'], groups: ['lab'] },
      { id: 'diag.1', do: 'diagnostics', devices: [], groups: ['site-a'] },
      { id: 'hc_2', do: 'health-check', devices: ['pi-3'], groups: [] },
    ]);
  });

  it('a policy without actions has none', () => {
    expect(parsePolicy('{}').actions).toEqual([]);
    expect(parsePolicy('{"releases":{"1.0.0":{"percent":5}}}').actions).toEqual([]);
  });

  it.each([
    [{ actions: {} }, '"actions" must be a list'],
    [{ actions: ['restart'] }, 'actions[0] must be an object'],
    [
      { actions: [{ id: 'a', do: 'restart-app', devices: ['x'], when: 'now' }] },
      'actions[0]: unknown key "when"',
    ],
    [{ actions: [{ do: 'restart-app', devices: ['x'] }] }, 'actions[0].id must be'],
    [{ actions: [{ id: 'Restart', do: 'restart-app', devices: ['x'] }] }, 'actions[0].id must be'],
    [{ actions: [{ id: '-a', do: 'restart-app', devices: ['x'] }] }, 'actions[0].id must be'],
    [{ actions: [{ id: 'a'.repeat(65), do: 'diagnostics', devices: ['x'] }] }, 'actions[0].id'],
    [
      {
        actions: [
          { id: 'a', do: 'diagnostics', devices: ['x'] },
          { id: 'a', do: 'restart-app', devices: ['y'] },
        ],
      },
      'actions[1].id "a" is used twice',
    ],
    [
      { actions: [{ id: 'a', do: 'reboot', devices: ['x'] }] },
      'actions[0].do must be one of restart-app, health-check, diagnostics',
    ],
    [{ actions: [{ id: 'a', do: 'diagnostics' }] }, 'actions[0] must name "devices" or "groups"'],
    [
      { actions: [{ id: 'a', do: 'diagnostics', devices: [], groups: [] }] },
      'actions[0] must name "devices" or "groups"',
    ],
    [
      { actions: [{ id: 'a', do: 'diagnostics', devices: 'pi-1' }] },
      'actions[0].devices must be a list of device ids',
    ],
    [
      { actions: [{ id: 'a', do: 'diagnostics', groups: ['a b'] }] },
      'actions[0].groups must be a list of group names',
    ],
  ])('refuses %j, naming the path', (policy, message) => {
    const parse = () => parsePolicy(JSON.stringify(policy));
    expect(parse).toThrow(PolicyError);
    expect(parse).toThrow(message);
  });

  it('rejects the whole policy when one action is bad (nothing of it is used)', () => {
    expect(() =>
      parsePolicy(
        JSON.stringify({
          releases: { '1.4.0': { percent: 10 } },
          actions: [{ id: 'ok', do: 'diagnostics', groups: ['lab'] }, { id: 'bad' }],
        }),
      ),
    ).toThrow('actions[1].do');
  });
});

describe('which actions are due on a device (pure)', () => {
  const actions = parseActions([
    { id: 'r1', do: 'restart-app', devices: ['pi-17'], groups: ['lab'] },
    { id: 'd1', do: 'diagnostics', groups: ['site-a', 'site-b'] },
    { id: 'h1', do: 'health-check', devices: ['pi-3'] },
  ]);
  const ids = (list: readonly { id: string }[]) => list.map((a) => a.id);

  it('addresses a device by id or by any of its groups', () => {
    const [r1, d1, h1] = actions as [never, never, never];
    expect(addressedTo(r1, { id: 'pi-17', groups: [] })).toBe(true);
    expect(addressedTo(r1, { id: 'pi-9', groups: ['lab'] })).toBe(true);
    expect(addressedTo(r1, { id: 'pi-9', groups: ['site-a'] })).toBe(false);
    expect(addressedTo(d1, { id: 'pi-9', groups: ['x', 'site-b'] })).toBe(true);
    expect(addressedTo(h1, { id: 'pi-30', groups: [] })).toBe(false);
  });

  it('keeps policy order and leaves out every recorded id, whatever its outcome', () => {
    const device = { id: 'pi-17', groups: ['site-a'] };
    expect(ids(dueActions(actions, new Set(), device))).toEqual(['r1', 'd1']);
    expect(ids(dueActions(actions, new Set(['r1']), device))).toEqual(['d1']);
    expect(ids(dueActions(actions, new Set(['r1', 'd1']), device))).toEqual([]);
    expect(ids(dueActions(actions, new Set(), { id: 'pi-3', groups: [] }))).toEqual(['h1']);
    expect(ids(dueActions([], new Set(), device))).toEqual([]);
  });

  it('a device id that only looks like a group name is not a member of that group', () => {
    expect(ids(dueActions(actions, new Set(), { id: 'lab', groups: [] }))).toEqual([]);
  });
});

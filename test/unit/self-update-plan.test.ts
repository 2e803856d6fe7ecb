import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { agentChanges, fingerprintOf } from '../../agent/self/agent-inputs.js';
import { candidateSpec, StateNotSharedError } from '../../agent/self/candidate-spec.js';
import {
  candidateName,
  canonicalName,
  type Handover,
  type Lease,
  leaderDuty,
  roleOf,
} from '../../agent/self/handover-record.js';
import { containerIdFromMountinfo } from '../../agent/self/own-container.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const handover = (candidate: string | null, phase: Handover['phase'] = 'starting'): Handover => ({
  version: '1.1.0',
  commit: 'c0ffee',
  image: 'sha256:1',
  ref: 'edge-ota/agent:1.1.0',
  from: A,
  fromImage: 'sha256:0',
  name: 'ota-agent',
  composeImage: 'ota-agent:local',
  candidate,
  phase,
  row: 7,
});
const lease = (container: string, h: Handover | null = null): Lease => ({ container, handover: h });

describe('who is in charge (roleOf)', () => {
  it('claims a device nobody holds, and one whose holder container is gone', () => {
    expect(roleOf(A, undefined, 'missing')).toEqual({ kind: 'claim', expected: null });
    expect(roleOf(B, lease(A), 'missing')).toEqual({ kind: 'claim', expected: A });
  });

  it('never takes charge from a holder that exists, even stopped or restarting', () => {
    for (const state of ['running', 'stopped', 'restarting'] as const) {
      expect(roleOf(B, lease(A), state)).toEqual({ kind: 'standby', holder: A });
    }
  });

  it('the new agent of a hand-over is a candidate until charge is passed to it', () => {
    expect(roleOf(B, lease(A, handover(B)), 'running')).toEqual({ kind: 'candidate' });
    expect(roleOf(B, lease(B, handover(B, 'handing-over')), 'running')).toEqual({
      kind: 'leader',
    });
    // The old agent restarted after it passed charge: it waits to be removed.
    expect(roleOf(A, lease(B, handover(B, 'handing-over')), 'running').kind).toBe('standby');
  });
});

describe('what an agent in charge finishes first (leaderDuty)', () => {
  it('the new agent finishes the take-over; the old one aborts its own cut hand-over', () => {
    expect(leaderDuty(B, handover(B, 'handing-over')).kind).toBe('take-over');
    expect(leaderDuty(A, handover(B)).kind).toBe('abort');
    expect(leaderDuty(A, handover(null)).kind).toBe('abort');
    expect(leaderDuty(A, null).kind).toBe('none');
  });

  it('a name left as <name>-next by a cut is handed on as the canonical name', () => {
    expect(canonicalName('/ota-agent-next')).toBe('ota-agent');
    expect(canonicalName('ota-agent-next2')).toBe('ota-agent');
    expect(canonicalName('ota-agent')).toBe('ota-agent');
  });

  it("a new agent's name is never the running agent's own (whose rename failed)", () => {
    expect(candidateName('ota-agent', 'ota-agent')).toBe('ota-agent-next');
    expect(candidateName('ota-agent', 'ota-agent-next')).toBe('ota-agent-next2');
    expect(candidateName('ota-agent', 'ota-agent-next2')).toBe('ota-agent-next');
  });
});

describe('the agent fingerprint of a release', () => {
  const tree = (dockerfile: string, agent: string) =>
    [
      `100644 blob ${dockerfile}\tDockerfile.agent`,
      `040000 tree ${agent}\tagent`,
      `040000 tree 1111\tcommon`,
      `100644 blob 2222\tpackage-lock.json`,
    ].join('\n');

  it('changes with any agent input and not with their order', () => {
    const one = fingerprintOf(tree('d1', 'a1'));
    expect(one).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprintOf(tree('d1', 'a2'))).not.toBe(one);
    expect(fingerprintOf(tree('d1', 'a1').split('\n').reverse().join('\n'))).toBe(one);
  });

  it('a tree without Dockerfile.agent carries no agent, and never replaces the running one', () => {
    expect(fingerprintOf('040000 tree 1111\tcommon\n')).toBeUndefined();
    expect(agentChanges('abc', undefined)).toBe(false);
    expect(agentChanges(undefined, undefined)).toBe(false);
  });

  it('an agent of unknown origin takes the first release that carries one', () => {
    expect(agentChanges(undefined, 'abc')).toBe(true);
    expect(agentChanges('abc', 'abc')).toBe(false);
  });
});

describe('the new agent container', () => {
  const self = {
    Image: 'sha256:old',
    Config: {
      Image: 'ota-agent:local',
      Env: ['PATH=/usr/bin', 'NODE_ENV=production', 'OTA_REPO_URL=https://x/y.git'],
      Labels: {
        'org.opencontainers.image.version': '0.0.0-dev',
        'com.docker.compose.project': 'ota',
        'com.docker.compose.service': 'agent',
        'com.docker.compose.image': 'sha256:old',
      },
    },
    HostConfig: {
      Binds: ['/var/run/docker.sock:/var/run/docker.sock'],
      Mounts: [{ Type: 'volume', Source: 'ota-agent-state', Target: '/var/lib/ota' }],
      NetworkMode: 'host',
      RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
      PortBindings: { '80/tcp': [{ HostPort: '80' }] },
      Memory: 268435456,
    },
  } as unknown as Docker.ContainerInspectInfo;

  it("keeps the old agent's settings, compose's labels pointing at the new image, and nothing else", () => {
    const image = {
      Env: ['PATH=/usr/bin', 'NODE_ENV=production'],
      Labels: { 'org.opencontainers.image.version': '0.0.0-dev' },
    };
    const spec = candidateSpec(
      self,
      image,
      { ref: 'edge-ota/agent:1.1.0', id: 'sha256:new', version: '1.1.0', commit: 'c0ffee' },
      'ota-agent-next',
      'ota-agent:local',
    );
    const o = spec.options as Record<string, Record<string, unknown>>;
    expect(o.Image).toBe('edge-ota/agent:1.1.0');
    expect(o.Env).toEqual(['OTA_REPO_URL=https://x/y.git']);
    expect(o.Labels).toMatchObject({
      'com.docker.compose.service': 'agent',
      'com.docker.compose.image': 'sha256:new',
      'io.edge-ota.role': 'agent',
      'io.edge-ota.version': '1.1.0',
      'io.edge-ota.compose-image': 'ota-agent:local',
    });
    // The old image's own labels stay with it (the new image has its own).
    expect(o.Labels).not.toHaveProperty('org.opencontainers.image.version');
    expect(o.HostConfig).toEqual({
      Binds: ['/var/run/docker.sock:/var/run/docker.sock'],
      Mounts: [{ Type: 'volume', Source: 'ota-agent-state', Target: '/var/lib/ota' }],
      NetworkMode: 'host',
      RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
      Memory: 268435456,
    });
    expect((o.Healthcheck as { Test: string[] }).Test.at(-1)).toBe('health');
  });
});

describe('a new agent must share the state', () => {
  it('is refused when the state directory is on no mount it would inherit', () => {
    const self = {
      Config: { Image: 'ota-agent:local', Env: [], Labels: {} },
      HostConfig: { Binds: ['/var/run/docker.sock:/var/run/docker.sock'] },
    } as unknown as Docker.ContainerInspectInfo;
    const image = { ref: 'edge-ota/agent:1.1.0', id: 'sha256:new', version: '1.1.0', commit: 'c' };
    expect(() => candidateSpec(self, {}, image, 'ota-agent-next', null)).toThrow(
      StateNotSharedError,
    );
    const bound = {
      ...self,
      HostConfig: { Binds: ['/srv/ota:/var/lib/ota:rw'] },
    } as unknown as Docker.ContainerInspectInfo;
    expect(candidateSpec(bound, {}, image, 'ota-agent-next', null).name).toBe('ota-agent-next');
  });
});

describe("this process's container id", () => {
  it('is read from the mount of /etc/hostname, also under network_mode: host', () => {
    const mountinfo = [
      '612 590 0:52 / / rw,relatime - overlay overlay rw',
      `640 612 254:1 /var/lib/docker/containers/${A}/resolv.conf /etc/resolv.conf rw - ext4 /dev/vda1 rw`,
      `641 612 254:1 /var/lib/docker/containers/${A}/hostname /etc/hostname rw - ext4 /dev/vda1 rw`,
    ].join('\n');
    expect(containerIdFromMountinfo(mountinfo)).toBe(A);
    expect(containerIdFromMountinfo('612 590 0:52 / / rw - overlay overlay rw')).toBeUndefined();
  });
});

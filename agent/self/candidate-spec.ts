import type Docker from 'dockerode';
import { LABEL, managedLabels } from '../labels.js';
import type { CandidateSpec } from './agent-containers.js';

const SECOND_NS = 1_000_000_000;

/**
 * The new agent's health check: `ota health` asks the agent answering on this container's own
 * socket (agents/<id>.sock), never the shared agent.sock, where the old agent still answers
 * while the new one starts. Every 15 s: the old agent waits for the first healthy result.
 */
export const CANDIDATE_HEALTHCHECK = {
  Test: ['CMD', 'node', '/agent/dist/agent/cli/ota.js', 'health'],
  Interval: 15 * SECOND_NS,
  Timeout: 5 * SECOND_NS,
  StartPeriod: 60 * SECOND_NS,
  Retries: 3,
};

/** Host settings a new agent inherits from the one it replaces; nothing else is copied. */
const HOST_SETTINGS = [
  'Binds',
  'Mounts',
  'NetworkMode',
  'RestartPolicy',
  'LogConfig',
  'Init',
  'ExtraHosts',
  'Dns',
  'DnsSearch',
  'DnsOptions',
  'SecurityOpt',
  'CapAdd',
  'CapDrop',
  'GroupAdd',
  'Privileged',
  'ReadonlyRootfs',
  'Tmpfs',
] as const;

export interface CandidateImage {
  /** The agent's tag for it (edge-ota/agent:<version>) and its id. */
  readonly ref: string;
  readonly id: string;
  readonly version: string;
  readonly commit: string;
}

/**
 * The new agent's container, made from the old one's own settings (so whatever compose or
 * `docker run` gave it: environment, volumes, network, restart policy, logging), with the new
 * image. The environment the old image set itself (PATH, NODE_ENV) is left to the new image.
 * compose's labels are kept, so compose goes on treating the agent as its service's container;
 * its image label names the new image, so `docker compose up -d` sees nothing to change.
 */
export function candidateSpec(
  self: Docker.ContainerInspectInfo,
  imageEnv: readonly string[],
  image: CandidateImage,
  name: string,
  composeImage: string | null,
): CandidateSpec {
  const defaults = new Set(imageEnv);
  const labels: Record<string, string> = {
    ...(self.Config.Labels ?? {}),
    ...managedLabels({
      [LABEL.role]: 'agent',
      [LABEL.version]: image.version,
      [LABEL.commit]: image.commit,
      ...(composeImage && { [LABEL.composeImage]: composeImage }),
    }),
  };
  if (labels['com.docker.compose.image'] !== undefined) {
    labels['com.docker.compose.image'] = image.id;
  }
  const host = self.HostConfig as Record<string, unknown>;
  const hostConfig: Record<string, unknown> = {};
  for (const key of HOST_SETTINGS) {
    const value = host[key];
    if (value !== undefined && value !== null) hostConfig[key] = value;
  }
  return {
    name,
    options: {
      name,
      Image: image.ref,
      Env: (self.Config.Env ?? []).filter((e) => !defaults.has(e)),
      Labels: labels,
      Healthcheck: CANDIDATE_HEALTHCHECK,
      HostConfig: hostConfig,
    },
  };
}

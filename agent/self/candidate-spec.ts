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
  'Devices',
  'Ulimits',
  'Sysctls',
  'PidMode',
  'IpcMode',
  'ShmSize',
  'Memory',
  'MemorySwap',
  'NanoCpus',
  'CpuShares',
  'CpusetCpus',
  'PidsLimit',
  'OomScoreAdj',
  'Runtime',
] as const;

/** The state directory is not on a mount a new agent would share: self-update cannot work. */
export class StateNotSharedError extends Error {
  override readonly name = 'StateNotSharedError';
  constructor(readonly stateDir: string) {
    super(
      `${stateDir} is not on a named volume or bind mount of this container, so a new agent would not see this agent's state: mount a volume there (compose.yaml does), or set OTA_SELF_UPDATE=false`,
    );
  }
}

/** Whether a volume or bind mount that the new container inherits holds `dir`. */
export function sharesState(host: Record<string, unknown>, dir: string): boolean {
  const binds = (host.Binds as string[] | null | undefined) ?? [];
  const mounts = (host.Mounts as { Target?: string }[] | null | undefined) ?? [];
  return binds.some((b) => b.split(':')[1] === dir) || mounts.some((m) => m.Target === dir);
}

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
  ownImage: { readonly Env?: string[] | null; readonly Labels?: Record<string, string> | null },
  image: CandidateImage,
  name: string,
  composeImage: string | null,
  stateDir = '/var/lib/ota',
): CandidateSpec {
  const host = self.HostConfig as Record<string, unknown>;
  if (!sharesState(host, stateDir)) throw new StateNotSharedError(stateDir);
  const defaults = new Set(ownImage.Env ?? []);
  // Inspect shows the image's labels merged into the container's: only the container's own go on.
  const fromImage = ownImage.Labels ?? {};
  const own = Object.entries(self.Config.Labels ?? {}).filter(([k, v]) => fromImage[k] !== v);
  const labels: Record<string, string> = {
    ...Object.fromEntries(own),
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

/**
 * Everything the agent creates carries these labels, and the agent lists, changes and removes
 * only what carries them: never the user's other containers, images, networks or volumes.
 */
export const LABEL = {
  managedBy: 'io.edge-ota.managed-by',
  version: 'io.edge-ota.version',
  commit: 'io.edge-ota.commit',
  source: 'io.edge-ota.source',
  role: 'io.edge-ota.role',
  /** Which agent made an app container (its app network's name), if one engine runs several. */
  instance: 'io.edge-ota.instance',
  /** Set by Dockerfile.app on its builder stages, whose images the classic builder leaves untagged. */
  stage: 'io.edge-ota.stage',
  /** On agent images the agent built: the fingerprint of the release's agent inputs (agent/self/agent-inputs.ts). */
  agentInputs: 'io.edge-ota.agent-inputs',
  /** On an agent container the agent created: the image name compose runs the agent from. */
  composeImage: 'io.edge-ota.compose-image',
} as const;

export const MANAGED_BY = 'edge-ota';

/** OCI labels the app image carries (Dockerfile.app); a pulled image is checked against them. */
export const OCI = {
  version: 'org.opencontainers.image.version',
  revision: 'org.opencontainers.image.revision',
  source: 'org.opencontainers.image.source',
} as const;

export function managedLabels(extra: Record<string, string>): Record<string, string> {
  return { [LABEL.managedBy]: MANAGED_BY, ...extra };
}

/** A Docker API label filter selecting only the agent's own objects. */
export function managedFilter(role?: string, instance?: string): { label: string[] } {
  const label = [`${LABEL.managedBy}=${MANAGED_BY}`];
  if (role) label.push(`${LABEL.role}=${role}`);
  if (instance) label.push(`${LABEL.instance}=${instance}`);
  return { label };
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * This process's container id, from the mounts Docker gives every container (its hostname,
 * hosts and resolv.conf files live under .../containers/<id>/): the hostname is no guide, it is
 * the host's under `network_mode: host`.
 */
export function containerIdFromMountinfo(mountinfo: string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    if (!/ \/etc\/(hostname|hosts|resolv\.conf) /.test(line)) continue;
    const id = /\/containers\/([0-9a-f]{64})\//.exec(line)?.[1];
    if (id) return id;
  }
  return undefined;
}

/** This process's container id, or undefined outside a container. */
export function ownContainerId(): string | undefined {
  try {
    return containerIdFromMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Each agent answers on a socket of its own as well (GET /self): the new agent's readiness
 * and every agent's health check ask there, not at agent.sock, which only the agent in charge
 * serves.
 */
export const ownSocketPath = (stateDir: string, containerId: string): string =>
  join(stateDir, 'agents', `${containerId.slice(0, 12)}.sock`);

import type Docker from 'dockerode';
import { LABEL, MANAGED_BY } from '../labels.js';
import type { AppImage } from './image-store.js';

/** An image the agent made (an app image, or an agent image for a self-update): by its labels, never by its name. */
export function isOurs(
  labels: Record<string, string> | null | undefined,
  role: 'app' | 'agent' = 'app',
): boolean {
  return labels?.[LABEL.managedBy] === MANAGED_BY && labels[LABEL.role] === role;
}

/** What the agent keeps of an inspected image, under the agent's own tag for it. */
export function toAppImage(info: Docker.ImageInspectInfo, ref: string): AppImage {
  const labels = info.Config.Labels ?? {};
  return {
    id: info.Id,
    ref,
    version: labels[LABEL.version] ?? '',
    commit: labels[LABEL.commit] ?? '',
    architecture: info.Architecture,
    createdAt: info.Created,
  };
}

import type Docker from 'dockerode';
import { LABEL, MANAGED_BY } from '../labels.js';
import type { AppImage } from './image-store.js';

/** An app image the agent made: by its labels, never by its name. */
export function isOurs(labels: Record<string, string> | null | undefined): boolean {
  return labels?.[LABEL.managedBy] === MANAGED_BY && labels[LABEL.role] === 'app';
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

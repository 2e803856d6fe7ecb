import { readFileSync } from 'node:fs';
import type Docker from 'dockerode';
import { statusOf } from '../image/engine-errors.js';
import { LABEL, MANAGED_BY, OCI } from '../labels.js';
import type { AgentContainers, CandidateSpec, SelfAgent } from './agent-containers.js';
import { type CandidateImage, candidateSpec, sharesState } from './candidate-spec.js';
import type { HolderState } from './handover-record.js';
import { containerIdFromMountinfo } from './own-container.js';

/** The image name the first agent was created from, carried on by every agent after it. */
function composeImageOf(info: Docker.ContainerInspectInfo): string | null {
  const carried = info.Config.Labels?.[LABEL.composeImage];
  if (carried) return carried;
  const name = info.Config.Image;
  return name.startsWith('sha256:') || /^[0-9a-f]{64}$/.test(name) ? null : name;
}

/** AgentContainers on a Docker engine. */
export class DockerAgentContainers implements AgentContainers {
  private inspected: Docker.ContainerInspectInfo | undefined;

  constructor(
    private readonly docker: Docker,
    /** The agent's state directory, which a new agent must share (candidate-spec.ts). */
    private readonly stateDir = '/var/lib/ota',
    private readonly mountinfo: () => string = () => readFileSync('/proc/self/mountinfo', 'utf8'),
  ) {}

  async self(): Promise<SelfAgent | undefined> {
    let text: string;
    try {
      text = this.mountinfo();
    } catch {
      return undefined;
    }
    const id = containerIdFromMountinfo(text);
    const info = id && (await this.inspect(id));
    if (!info) return undefined;
    this.inspected = info;
    const image = await this.docker.getImage(info.Image).inspect();
    const labels = image.Config.Labels ?? {};
    const ours = labels[LABEL.managedBy] === MANAGED_BY && labels[LABEL.role] === 'agent';
    return {
      id: info.Id,
      name: info.Name.replace(/^\//, ''),
      image: info.Image,
      imageName: info.Config.Image,
      composeImage: composeImageOf(info),
      version: (ours ? labels[LABEL.version] : labels[OCI.version]) ?? 'unknown',
      inputs: ours ? labels[LABEL.agentInputs] : undefined,
    };
  }

  /** The new agent's settings, from this agent's own container (self() must have run). */
  async candidate(image: CandidateImage, name: string): Promise<CandidateSpec> {
    const self = this.inspected;
    if (!self) throw new Error('not running in a container: no settings to copy');
    const own = await this.docker.getImage(self.Image).inspect();
    return candidateSpec(self, own.Config, image, name, composeImageOf(self), this.stateDir);
  }

  /** Whether a new agent would inherit the mount holding the state directory (self() first). */
  stateShared(): boolean {
    const host = (this.inspected?.HostConfig ?? {}) as Record<string, unknown>;
    return sharesState(host, this.stateDir);
  }

  async state(id: string): Promise<HolderState> {
    const info = await this.inspect(id);
    if (!info) return 'missing';
    if (info.State.Restarting) return 'restarting';
    return info.State.Running ? 'running' : 'stopped';
  }

  async idOf(idOrName: string): Promise<string | undefined> {
    return (await this.inspect(idOrName))?.Id;
  }

  async others(): Promise<string[]> {
    const labels = this.inspected?.Config.Labels ?? {};
    const project = labels['com.docker.compose.project'];
    const service = labels['com.docker.compose.service'];
    if (!project || !service) return [];
    const found = await this.docker.listContainers({
      all: true,
      filters: {
        label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${service}`],
      },
    });
    return found.map((c) => c.Id).filter((id) => id !== this.inspected?.Id);
  }

  async health(id: string): Promise<string | undefined> {
    return (await this.inspect(id))?.State.Health?.Status;
  }

  async createCandidate(spec: CandidateSpec): Promise<string> {
    const created = await this.docker.createContainer(
      spec.options as Docker.ContainerCreateOptions,
    );
    return created.id;
  }

  async start(id: string): Promise<void> {
    await this.docker.getContainer(id).start();
  }

  async stopAndRemove(idOrName: string, timeoutS: number): Promise<void> {
    const container = this.docker.getContainer(idOrName);
    await container.stop({ t: timeoutS }).catch((err) => {
      // 304: not running; 404: gone already.
      if (statusOf(err) !== 304 && statusOf(err) !== 404) throw err;
    });
    await container.remove({ force: true }).catch((err) => {
      if (statusOf(err) !== 404) throw err;
    });
  }

  async rename(id: string, name: string): Promise<void> {
    await this.docker.getContainer(id).rename({ name });
  }

  async tag(image: string, repoTag: string): Promise<void> {
    const at = repoTag.lastIndexOf(':');
    const slash = repoTag.lastIndexOf('/');
    const [repo, tag] =
      at > slash ? [repoTag.slice(0, at), repoTag.slice(at + 1)] : [repoTag, 'latest'];
    await this.docker.getImage(image).tag({ repo, tag });
  }

  private async inspect(id: string): Promise<Docker.ContainerInspectInfo | undefined> {
    return this.docker
      .getContainer(id)
      .inspect()
      .catch((err) => {
        if (statusOf(err) === 404) return undefined;
        throw err;
      });
  }
}

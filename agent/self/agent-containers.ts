import type { CandidateImage } from './candidate-spec.js';
import type { HolderState } from './handover-record.js';

/** The running agent as the engine sees it. */
export interface SelfAgent {
  /** Full container id. */
  readonly id: string;
  /** Container name, without the leading slash (a new agent takes the old one's: it changes once). */
  name: string;
  /** Image id the container runs. */
  readonly image: string;
  /** The image name it was created from (Config.Image), e.g. compose's ota-agent:local. */
  readonly imageName: string;
  /** The agent version: the agent's label on images it built, else the OCI version label. */
  readonly version: string;
  /**
   * The image name compose (or whoever created the first agent) runs the agent from, e.g.
   * ota-agent:local: kept pointing at the image that runs, so `docker compose up -d` does not
   * bring back an older agent. Null when the agent was created from an image id.
   */
  readonly composeImage: string | null;
  /** The agent fingerprint label, on images the agent built from a release. */
  readonly inputs: string | undefined;
}

/** What a new agent container is created with (agent/self/candidate-spec.ts). */
export interface CandidateSpec {
  readonly name: string;
  readonly options: Record<string, unknown>;
}

/**
 * The agent's own containers on the engine: itself, the agent it replaces, the new agent it
 * starts. One real implementation: DockerAgentContainers.
 */
export interface AgentContainers {
  /** This process's container; undefined when the agent does not run in one (no self-update). */
  self(): Promise<SelfAgent | undefined>;
  state(id: string): Promise<HolderState>;
  /** The full id of a container by id or name; undefined if there is none. */
  idOf(idOrName: string): Promise<string | undefined>;
  /**
   * Other containers of this agent's compose service (same project and service labels): agents
   * left over by a cut hand-over or a compose recreate. Empty outside compose.
   */
  others(): Promise<string[]>;
  /** The container's health status (healthy, unhealthy, starting), if it has a check. */
  health(id: string): Promise<string | undefined>;
  /** The new agent's container settings, from this agent's own (self() must have run). */
  candidate(image: CandidateImage, name: string): Promise<CandidateSpec>;
  /** Creates the new agent; returns its id. */
  createCandidate(spec: CandidateSpec): Promise<string>;
  start(id: string): Promise<void>;
  /** Stops (SIGTERM, then SIGKILL after timeoutS) and removes; a missing container is fine. */
  stopAndRemove(idOrName: string, timeoutS: number): Promise<void>;
  rename(id: string, name: string): Promise<void>;
  /** Points `repoTag` (e.g. ota-agent:local) at the image. */
  tag(image: string, repoTag: string): Promise<void>;
}

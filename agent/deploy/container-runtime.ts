export type Health = 'healthy' | 'unhealthy' | 'starting' | 'none';
export type RunState =
  | 'created'
  | 'running'
  | 'restarting'
  | 'exited'
  | 'paused'
  | 'dead'
  | 'removing';

/** One of the agent's app containers as the engine reports it. */
export interface AppContainer {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly commit: string;
  readonly image: string;
  readonly state: RunState;
  readonly health: Health;
  readonly restartCount: number;
  readonly exitCode: number;
  readonly createdAt: string;
  readonly startedAt: string;
  /** The device id the app was started with (WEATHER_DEVICE_ID): recovers a lost state volume. */
  readonly deviceId?: string | undefined;
}

/** How app containers are run: the same for every version, only image and version differ. */
export interface AppRunSpec {
  readonly image: string;
  readonly version: string;
  readonly commit: string;
  readonly env: Readonly<Record<string, string>>;
  readonly dataVolume: string;
  readonly dataPath: string;
  readonly network: string;
  readonly restartPolicy: 'unless-stopped' | 'always' | 'on-failure' | 'no';
  readonly logMaxSize: string;
  readonly logMaxFiles: number;
}

/** The container engine as the deployer needs it. One real implementation: DockerContainerRuntime. */
export interface ContainerRuntime {
  /** The agent's app containers (by label), any state. */
  list(): Promise<AppContainer[]>;
  inspect(id: string): Promise<AppContainer | undefined>;
  /** Creates (does not start) a container for the spec; returns its id. */
  create(spec: AppRunSpec): Promise<string>;
  start(id: string): Promise<void>;
  /** Graceful stop: SIGTERM, then SIGKILL after `timeoutS`. */
  stop(id: string, timeoutS: number): Promise<void>;
  remove(id: string): Promise<void>;
  /**
   * Runs the container's own HEALTHCHECK command once inside it: true when it passes now.
   * False for a failed check, a stopped container or one without a check.
   */
  probe(id: string): Promise<boolean>;
  /** Restarts a running container (SIGTERM, SIGKILL after `timeoutS`, start): a remote action. */
  restart(id: string, timeoutS: number): Promise<void>;
  /** The last `tail` lines the container wrote (stdout and stderr, in order). */
  logs(id: string, tail: number): Promise<string[]>;
  /** Makes sure the agent's network and data volume exist (labelled). */
  prepare(spec: Pick<AppRunSpec, 'network' | 'dataVolume'>): Promise<void>;
}

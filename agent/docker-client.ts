import Module, { createRequire } from 'node:module';
import type Docker from 'dockerode';
import { ConfigError } from '../common/config-error.js';

type Load = (
  request: string,
  parent: { filename?: string } | undefined,
  isMain: boolean,
) => unknown;

/**
 * Modules dockerode requires when it is loaded but calls only on paths the agent never takes:
 * docker-modem's ssh transport (ssh2, for an ssh:// DOCKER_HOST) and dockerode's BuildKit
 * session (gRPC and protobufjs, for builds with `version: '2'`; the agent uses the classic
 * builder). Each is a function module, so a stand-in that loads it at its first call behaves
 * the same. Loaded eagerly they cost the agent about 10 MB of resident memory for its whole life.
 * The request and the file that makes it, as dockerode 4 and docker-modem 5 write them.
 */
export const DEFERRED_MODULES: Readonly<Record<string, string>> = {
  './ssh': '/docker-modem/lib/modem.js',
  './session': '/dockerode/lib/docker.js',
};

/**
 * The Dockerode class, loaded with DEFERRED_MODULES deferred to their first use. Node's CommonJS
 * loader has no public hook for one require of one module, so Module._load is wrapped for the
 * duration of this synchronous load only.
 */
export function loadDockerode(): typeof Docker {
  const loader = Module as unknown as { _load: Load };
  const load = loader._load;
  loader._load = (request, parent, isMain) => {
    const from = DEFERRED_MODULES[request];
    if (!from || !parent?.filename?.endsWith(from))
      return load.call(Module, request, parent, isMain);
    let real: ((...args: unknown[]) => unknown) | undefined;
    return (...args: unknown[]) => {
      real ??= load.call(Module, request, parent, isMain) as (...args: unknown[]) => unknown;
      return real(...args);
    };
  };
  try {
    return createRequire(import.meta.url)('dockerode') as typeof Docker;
  } finally {
    loader._load = load;
  }
}

/**
 * DOCKER_HOST, which dockerode reads itself, checked with the other settings: an ssh:// engine
 * would take the deferred ssh2 path, which needs WebAssembly, and the agent's node runs without
 * it (--jitless in Dockerfile.agent); it would fail at the first engine call, not at start.
 */
export function checkDockerHost(value: string | undefined): void {
  if (value === undefined || /^(unix|tcp|http|https|npipe):\/\//.test(value)) return;
  throw new ConfigError(
    'DOCKER_HOST',
    'unix://, tcp://, http:// or https:// (mount the engine socket instead of ssh://)',
    value,
  );
}

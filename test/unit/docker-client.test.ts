import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadDockerode } from '../../agent/docker-client.js';

// Node's CommonJS cache is per process; vitest runs each test file in a fresh worker, and
// nothing here loads dockerode before loadDockerode does.
const loaded = (pkg: string) =>
  Object.keys(createRequire(import.meta.url).cache).some((f) =>
    f.includes(`/node_modules/${pkg}/`),
  );

describe('dockerode as the agent loads it', () => {
  const Docker = loadDockerode();

  it('leaves out ssh2, gRPC and protobufjs until a path that needs them runs', () => {
    expect(loaded('dockerode')).toBe(true);
    expect(loaded('docker-modem')).toBe(true);
    expect(loaded('ssh2')).toBe(false);
    expect(loaded('@grpc/grpc-js')).toBe(false);
    expect(loaded('protobufjs')).toBe(false);
  });

  it('still reaches an engine over ssh:// (ssh2 loads at the first request)', async () => {
    // Nothing listens on port 1: the error must come from ssh2 trying, not from a stand-in.
    const docker = new Docker({ protocol: 'ssh', host: '127.0.0.1', port: 1, username: 'x' });
    const err = await docker.ping().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(loaded('ssh2')).toBe(true);
    expect(err).not.toBeInstanceOf(TypeError);
    expect(String((err as Error).message)).toMatch(/ECONNREFUSED/);
  });

  it('still opens a BuildKit session for a version 2 build (gRPC loads at the first one)', async () => {
    const docker = new Docker({ socketPath: '/nonexistent/docker.sock' });
    const err = await docker.buildImage(Readable.from([]), { version: '2' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(loaded('@grpc/grpc-js')).toBe(true);
    expect(err).not.toBeInstanceOf(TypeError);
    expect(String((err as Error).message)).toMatch(/ENOENT/);
  });
});

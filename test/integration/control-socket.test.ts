import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionResult, AgentControl, StatusReport } from '../../agent/control/control-api.js';
import { serveControl } from '../../agent/control/control-server.js';
import type { ActionRecord } from '../../agent/state/action-ledger.js';
import type { Deployment } from '../../agent/state/agent-state.js';
import { captureLog } from '../helpers/capture-log.js';
import { REPO_ROOT } from '../helpers/docker-cli.js';
import { tempDirForSuite } from '../helpers/temp-dir.js';

// The real control server on a real Unix socket, and the real `ota` CLI (the build in dist/)
// as a separate process. The agent behind the socket is a recorder: this tests the boundary
// (arguments and requests), not Docker.

const CLI = join(REPO_ROOT, 'dist/agent/cli/ota.js');

/** Records what reaches the agent; `boom` makes one call throw, as a failing agent would. */
class RecordingAgent implements AgentControl {
  readonly calls: string[] = [];
  boom = false;

  private record(call: string): void {
    this.calls.push(call);
    if (this.boom) throw new Error('the engine is away');
  }
  async status(): Promise<StatusReport> {
    this.record('status');
    return {
      deviceId: 'pi-socket',
      channel: 'stable',
      running: undefined,
      previous: undefined,
      pinned: undefined,
      activity: { state: 'idle', version: undefined, since: new Date(0).toISOString() },
      lastPoll: undefined,
      failed: [],
    };
  }
  async history(limit: number): Promise<Deployment[]> {
    this.record(`history ${limit}`);
    return [];
  }
  async remoteActions(limit: number): Promise<ActionRecord[]> {
    this.record(`actions ${limit}`);
    return [];
  }
  async check(): Promise<ActionResult> {
    this.record('check');
    return { ok: true, message: 'up to date' };
  }
  async rollback(version: string | undefined): Promise<ActionResult> {
    this.record(`rollback ${version}`);
    return { ok: true, message: `rollback to ${version}: succeeded` };
  }
  async pin(version: string): Promise<ActionResult> {
    this.record(`pin ${version}`);
    return { ok: true, message: `pinned to ${version}` };
  }
  async unpin(): Promise<ActionResult> {
    this.record('unpin');
    return { ok: true, message: 'unpinned' };
  }
  async retry(version: string): Promise<ActionResult> {
    this.record(`retry ${version}`);
    return { ok: true, message: `${version} may be deployed again` };
  }
  async fleet(): Promise<never> {
    this.record('fleet');
    throw new Error('central reporting is off on this device: no fleet view');
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('ota and the control socket refuse malformed input and keep answering', () => {
  const stateDir = tempDirForSuite('ota-sock-');
  const socketPath = join(stateDir, 'agent.sock');
  const agent = new RecordingAgent();
  let server: Server;

  beforeAll(async () => {
    server = serveControl(socketPath, agent, captureLog().log);
    await new Promise((resolve) => server.once('listening', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  const ota = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        { env: { PATH: process.env.PATH ?? '', OTA_STATE_DIR: stateDir }, timeout: 20_000 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });

  /** A raw HTTP request over the socket, as any local process could send. */
  const raw = (method: string, path: string, body?: string) =>
    new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const req = request({ socketPath, method, path }, (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.end(body);
    });

  async function expectStillServing() {
    const before = agent.calls.length;
    const status = await ota('status', '--json');
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).deviceId).toBe('pi-socket');
    expect(agent.calls.slice(before)).toEqual(['status']);
  }

  it.each([
    [
      ['pin', '../../etc/passwd'],
      /ota pin: VERSION: expected a version .*got "\.\.\/\.\.\/etc\/passwd"/,
    ],
    [
      ['rollback', '../../etc/passwd'],
      /ota rollback: VERSION: expected a version .*"\.\.\/\.\.\/etc\/passwd"/,
    ],
    [['retry', 'latest'], /ota retry: VERSION: expected a version .*got "latest"/],
    [['pin'], /ota pin: VERSION: expected a version .*got nothing/],
    [['history', '-5'], /ota history: N: expected a whole number from 1 to 1000, got "-5"/],
    [['history', 'abc'], /ota history: N: expected a whole number from 1 to 1000, got "abc"/],
    [['history', '0'], /ota history: N: expected a whole number/],
    [['history', '2.5'], /ota history: N: expected a whole number/],
    [['status', 'now'], /ota status: extra argument: expected no argument, got "now"/],
    [['status', '--jsn'], /ota status: option: expected --json, got "--jsn"/],
    [['rolback'], /ota: command: expected one of status, .*got "rolback"/],
  ])(
    'ota %j exits 2 naming the argument, sends nothing, and the agent still answers',
    async (args, message) => {
      const before = agent.calls.length;
      const run = await ota(...args);
      expect(run.stderr).toMatch(message);
      expect(run.code).toBe(2);
      expect(agent.calls.slice(before)).toEqual([]);
      await expectStillServing();
    },
  );

  it('passes well-formed arguments as typed, canonical values', async () => {
    agent.calls.length = 0;
    expect((await ota('pin', 'v1.2.0')).code).toBe(0);
    expect((await ota('rollback')).code).toBe(0);
    expect((await ota('rollback', '1.0.0-beta.2')).code).toBe(0);
    expect((await ota('history', '5')).code).toBe(0);
    expect((await ota('history')).code).toBe(0);
    expect((await ota('history', '3', '--verbose')).code).toBe(0);
    expect((await ota('history', '4', '--json')).code).toBe(0);
    expect((await ota('actions', '7')).code).toBe(0);
    expect(agent.calls).toEqual([
      'pin 1.2.0',
      'rollback undefined',
      'rollback 1.0.0-beta.2',
      'history 5',
      'actions 5',
      'history 20',
      'actions 20',
      'history 3',
      'actions 3',
      'history 4',
      'actions 7',
    ]);
  });

  it.each([
    ['a path as version', 'POST', '/pin', '{"version":"../../etc/passwd"}', 'version'],
    ['a path as version', 'POST', '/rollback', '{"version":"../../etc/passwd"}', 'version'],
    ['a number as version', 'POST', '/pin', '{"version":5}', 'version'],
    ['no version', 'POST', '/pin', '{}', 'version'],
    ['a body that is not JSON', 'POST', '/pin', 'not json', 'request body'],
    ['a body that is not an object', 'POST', '/pin', '["1.0.0"]', 'request body'],
    ['a version it does not take', 'POST', '/check', '{"version":"1.0.0"}', 'version'],
    ['an unknown field', 'POST', '/rollback', '{"version":"1.0.0","force":true}', 'force'],
    ['a 20 KB body', 'POST', '/pin', `{"version":"${'1'.repeat(20_000)}"}`, 'request body'],
    ['a negative limit', 'GET', '/history?limit=-5', undefined, 'limit'],
    ['a limit that is not a number', 'GET', '/history?limit=abc', undefined, 'limit'],
    ['a limit too large', 'GET', '/history?limit=1e9', undefined, 'limit'],
    ['a negative action limit', 'GET', '/actions?limit=-1', undefined, 'limit'],
  ])(
    '%s (%s %s): 400 naming the field, nothing reaches the agent',
    async (_, method, path, body, argument) => {
      const before = agent.calls.length;
      const res = await raw(method, path, body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ ok: false, argument });
      expect(String(res.body.message)).toMatch(new RegExp(`^${argument}: expected `));
      expect(agent.calls.slice(before)).toEqual([]);
      await expectStillServing();
    },
  );

  it('answers an unknown route, a failing agent and a broken connection without going down', async () => {
    expect((await raw('DELETE', '/status')).status).toBe(404);
    expect((await raw('GET', '/fleet')).status).toBe(500);
    agent.boom = true;
    try {
      const res = await raw('POST', '/pin', '{"version":"1.0.0"}');
      expect(res).toEqual({ status: 500, body: { ok: false, message: 'the engine is away' } });
    } finally {
      agent.boom = false;
    }
    // A client that sends half a request and hangs up, and one that sends garbage.
    for (const bytes of [
      'POST /pin HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"ver',
      '\x00\x01 garbage\r\n\r\n',
    ]) {
      await new Promise<void>((resolve) => {
        const socket = connect(socketPath, () => socket.end(bytes));
        socket.on('close', () => resolve());
        socket.on('error', () => resolve());
        socket.resume();
      });
    }
    await expectStillServing();
  });
});

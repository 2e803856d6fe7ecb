// `docker exec ota-agent ota <command> [--json]`: talks to the running agent over its socket.
import { request } from 'node:http';
import { join } from 'node:path';
import type { ActionResult, StatusReport } from '../control/control-api.js';
import { InvalidArgumentError } from '../errors.js';
import type { FleetReport } from '../report/central-reporter.js';
import { ownContainerId, ownSocketPath } from '../self/own-container.js';
import { askSelf, type SelfReport } from '../self/self-socket.js';
import type { ActionRecord } from '../state/action-ledger.js';
import type { Deployment } from '../state/agent-state.js';
import { type Command, parseCommand, USAGE, usageOf } from './command.js';
import { formatAction, formatFleet, formatHistory, formatStatus } from './format.js';
import { formatActions } from './format-actions.js';

/** The agent refused the request as malformed (HTTP 400): a usage error, like a bad argument. */
class RefusedRequest extends Error {}

function call(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<unknown> {
  const socketPath = join(process.env.OTA_STATE_DIR ?? '/var/lib/ota', 'agent.sock');
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, path, method, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => {
          try {
            const parsed = JSON.parse(text);
            const status = res.statusCode ?? 500;
            if (status === 400) reject(new RefusedRequest(parsed.message ?? text));
            else if (status >= 400) reject(new Error(parsed.message ?? text));
            else resolve(parsed);
          } catch {
            reject(new Error(text || `HTTP ${res.statusCode}`));
          }
        });
      },
    );
    req.on('error', (err) =>
      reject(new Error(`cannot reach the agent at ${socketPath}: ${err.message}. Is it running?`)),
    );
    req.end(payload === undefined ? undefined : JSON.stringify(payload));
  });
}

async function run(command: Exclude<Command, { name: 'help' }>): Promise<number> {
  const print = (value: unknown, text: (v: never) => string) =>
    console.log(command.json ? JSON.stringify(value, null, 2) : text(value as never));
  switch (command.name) {
    case 'status':
      print(await call('GET', '/status'), (s: StatusReport) => formatStatus(s));
      return 0;
    case 'fleet':
      print(await call('GET', '/fleet'), (f: FleetReport) => formatFleet(f));
      return 0;
    case 'health': {
      // This container's own agent, on its own socket: agent.sock may be another agent's.
      const id = ownContainerId();
      if (!id) throw new Error('not in a container: no socket of its own to ask');
      const stateDir = process.env.OTA_STATE_DIR ?? '/var/lib/ota';
      const self = await askSelf(ownSocketPath(stateDir, id), 4_000);
      print(self, (s: SelfReport) => `${s.role} ${s.version}${s.ready ? '' : ' (not ready)'}`);
      return 0;
    }
    case 'history': {
      const deployments = await call('GET', `/history?limit=${command.limit}`);
      if (command.json) {
        print(deployments, () => ''); // the JSON stays the deployments; `ota actions --json`
        return 0;
      }
      const actions = (await call('GET', `/actions?limit=${command.limit}`)) as ActionRecord[];
      console.log(formatHistory(deployments as Deployment[], command.verbose));
      if (actions.length > 0) console.log(`remote actions\n${formatActions(actions)}`);
      return 0;
    }
    case 'actions':
      print(await call('GET', `/actions?limit=${command.limit}`), (a: ActionRecord[]) =>
        formatActions(a),
      );
      return 0;
    case 'check':
    case 'unpin':
      return action(await call('POST', `/${command.name}`, {}));
    case 'rollback':
    case 'pin':
    case 'retry':
      return action(await call('POST', `/${command.name}`, { version: command.version }));
  }

  function action(result: unknown): number {
    print(result, formatAction);
    return (result as ActionResult).ok ? 0 : 1;
  }
}

async function main(argv: string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    const unknownCommand = err.argument === 'command';
    const name = unknownCommand ? 'ota' : `ota ${argv[0]}`;
    console.error(`${name}: ${err.message}\n${unknownCommand ? USAGE : usageOf(argv[0] ?? '')}`);
    return 2;
  }
  if (command.name === 'help') {
    console.log(USAGE);
    return 0;
  }
  try {
    return await run(command);
  } catch (err) {
    if (!(err instanceof RefusedRequest)) throw err;
    console.error(`ota ${command.name}: ${err.message}`);
    return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`ota: ${err.message}`);
    process.exit(1);
  },
);

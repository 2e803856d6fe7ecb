// `docker exec ota-agent ota <command> [--json]`: talks to the running agent over its socket.
import { request } from 'node:http';
import { join } from 'node:path';
import type { ActionResult, StatusReport } from '../control/control-api.js';
import type { FleetReport } from '../report/central-reporter.js';
import type { Deployment } from '../state/agent-state.js';
import { formatAction, formatFleet, formatHistory, formatStatus } from './format.js';

const USAGE = `usage: ota <command> [--json]
  status              device, running and previous version, activity, last poll, failed versions
  history [N]         the last N deployments (default 20)
  check               poll for a new release now
  rollback [VERSION]  back to the previous version, or to a kept VERSION
  pin VERSION         stay on VERSION (switching to it if it is kept); ignore new releases
  unpin               follow releases again
  retry VERSION       clear VERSION's failed mark so it may be deployed again
  fleet               all devices by version and group, and each rollout's outcomes
                      (read from the central database)`;

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
            if ((res.statusCode ?? 500) >= 400) reject(new Error(parsed.message ?? text));
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

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const [command, arg] = argv.filter((a) => a !== '--json');
  const print = (value: unknown, text: (v: never) => string) =>
    console.log(json ? JSON.stringify(value, null, 2) : text(value as never));
  switch (command) {
    case 'status':
      print(await call('GET', '/status'), (s: StatusReport) => formatStatus(s));
      return 0;
    case 'fleet':
      print(await call('GET', '/fleet'), (f: FleetReport) => formatFleet(f));
      return 0;
    case 'history':
      print(await call('GET', `/history?limit=${Number(arg ?? 20) || 20}`), (h: Deployment[]) =>
        formatHistory(h),
      );
      return 0;
    case 'check':
    case 'unpin':
    case 'rollback':
    case 'retry':
    case 'pin': {
      if ((command === 'pin' || command === 'retry') && !arg) {
        console.error(`ota ${command}: which version?`);
        return 2;
      }
      const result = (await call('POST', `/${command}`, { version: arg })) as ActionResult;
      print(result, formatAction);
      return result.ok ? 0 : 1;
    }
    default:
      console.error(USAGE);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`ota: ${err.message}`);
    process.exit(1);
  },
);

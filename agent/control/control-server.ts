import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AgentLogger } from '../log.js';
import type { AgentControl } from './control-api.js';

async function body(req: import('node:http').IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** HTTP on a Unix socket (reachable only inside the agent container, e.g. by `docker exec`). */
export function serveControl(socketPath: string, control: AgentControl, log: AgentLogger): Server {
  rmSync(socketPath, { force: true });
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://agent');
      const args = req.method === 'POST' ? await body(req) : {};
      const version = typeof args.version === 'string' ? args.version : undefined;
      let result: unknown;
      switch (`${req.method} ${url.pathname}`) {
        case 'GET /status':
          result = await control.status();
          break;
        case 'GET /history':
          result = await control.history(Number(url.searchParams.get('limit') ?? 20));
          break;
        case 'GET /fleet':
          result = await control.fleet();
          break;
        case 'POST /check':
          result = await control.check();
          break;
        case 'POST /rollback':
          result = await control.rollback(version);
          break;
        case 'POST /pin':
          if (!version) throw new Error('pin needs a version');
          result = await control.pin(version);
          break;
        case 'POST /retry':
          if (!version) throw new Error('retry needs a version');
          result = await control.retry(version);
          break;
        case 'POST /unpin':
          result = await control.unpin();
          break;
        default:
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: false, message: `unknown command ${url.pathname}` }));
          return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(result));
    } catch (err) {
      log.warn({ err }, 'control request failed');
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false, message: (err as Error).message }));
    }
  });
  server.listen(socketPath);
  return server;
}

import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { InvalidArgumentError } from '../errors.js';
import type { AgentLogger } from '../log.js';
import { HISTORY_DEFAULT, parseHistoryLimit, parseVersionArgument } from './arguments.js';
import type { AgentControl } from './control-api.js';

/** Far above any request `ota` sends; a bigger body is refused before it is buffered. */
const MAX_BODY_BYTES = 16 * 1024;

/** Which body fields each POST takes; anything else is refused rather than ignored. */
const FIELDS: Record<string, { version: 'none' | 'optional' | 'required' }> = {
  '/check': { version: 'none' },
  '/unpin': { version: 'none' },
  '/rollback': { version: 'optional' },
  '/pin': { version: 'required' },
  '/retry': { version: 'required' },
};

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > MAX_BODY_BYTES) {
      throw new InvalidArgumentError('request body', `at most ${MAX_BODY_BYTES} bytes`, '...');
    }
  }
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    throw new InvalidArgumentError('request body', 'a JSON object', text);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError('request body', 'a JSON object', parsed);
  }
  return parsed as Record<string, unknown>;
}

/** The version field of a POST, checked against what the command takes. */
function versionOf(path: string, body: Record<string, unknown>): string | undefined {
  const takes = FIELDS[path]?.version ?? 'none';
  for (const key of Object.keys(body)) {
    if (key !== 'version' || takes === 'none') {
      throw new InvalidArgumentError(key, `no such field in ${path}`, body[key]);
    }
  }
  if (body.version === undefined && takes !== 'required') return undefined;
  return parseVersionArgument(body.version, 'version');
}

async function dispatch(req: IncomingMessage, control: AgentControl): Promise<unknown> {
  const url = new URL(req.url ?? '/', 'http://agent');
  const route = `${req.method} ${url.pathname}`;
  if (req.method === 'GET') {
    switch (route) {
      case 'GET /status':
        return control.status();
      case 'GET /fleet':
        return control.fleet();
      case 'GET /history':
      case 'GET /actions': {
        const text = url.searchParams.get('limit');
        const limit = text === null ? HISTORY_DEFAULT : parseHistoryLimit(text, 'limit');
        return route === 'GET /history' ? control.history(limit) : control.remoteActions(limit);
      }
    }
  }
  if (req.method === 'POST' && Object.hasOwn(FIELDS, url.pathname)) {
    const version = versionOf(url.pathname, await readBody(req));
    switch (url.pathname) {
      case '/check':
        return control.check();
      case '/unpin':
        return control.unpin();
      case '/rollback':
        return control.rollback(version);
      case '/pin':
        return control.pin(version as string);
      case '/retry':
        return control.retry(version as string);
    }
  }
  return NOT_FOUND;
}

const NOT_FOUND = Symbol('not found');

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body); // may throw: before the head, so a 500 can still follow
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

/**
 * HTTP on a Unix socket (reachable only inside the agent container, e.g. by `docker exec`).
 * Every request is validated before it reaches the agent (400 naming the field), and every
 * failure becomes a reply: no request, however malformed, may take the agent down.
 */
export function serveControl(socketPath: string, control: AgentControl, log: AgentLogger): Server {
  rmSync(socketPath, { force: true });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const result = await dispatch(req, control);
      if (result === NOT_FOUND) {
        const path = new URL(req.url ?? '/', 'http://agent').pathname;
        reply(res, 404, { ok: false, message: `unknown command ${req.method} ${path}` });
      } else {
        reply(res, 200, result);
      }
    } catch (err) {
      if (err instanceof InvalidArgumentError) {
        log.warn({ argument: err.argument, reason: err.message }, 'control request refused');
        reply(res, 400, { ok: false, message: err.message, argument: err.argument });
      } else {
        log.warn({ err, url: req.url }, 'control request failed');
        reply(res, 500, { ok: false, message: (err as Error).message });
      }
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      // Only a failure to reply can land here (e.g. a result JSON cannot encode).
      log.error({ err, url: req.url }, 'control request could not be answered');
      res.destroy();
    });
  });
  server.listen(socketPath);
  return server;
}

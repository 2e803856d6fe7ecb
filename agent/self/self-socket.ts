import { mkdirSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { dirname } from 'node:path';
import type { AgentLogger } from '../log.js';

/** What an agent says about itself on its own socket (GET /self). */
export interface SelfReport {
  readonly container: string;
  readonly name: string;
  readonly version: string;
  readonly inputs: string | undefined;
  readonly role: 'leader' | 'candidate' | 'standby' | 'handed-over';
  /** A candidate is ready once its state is migrated and its first poll succeeded. */
  readonly ready: boolean;
  readonly firstPoll?: { readonly at: string; readonly error?: string | undefined } | undefined;
}

/** Serves GET /self on `path` (agents/<id>.sock); anything else is 404. */
export function serveSelf(path: string, report: () => SelfReport, log: AgentLogger): Server {
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true });
  const server = createServer((req, res) => {
    const ok = req.method === 'GET' && req.url === '/self';
    res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ok ? report() : { ok: false, message: 'only GET /self here' }));
  });
  server.on('error', (err) => log.error({ err, path }, 'own socket failed'));
  server.listen(path);
  return server;
}

/** Asks the agent on `path` about itself; rejects when nothing answers within timeoutMs. */
export function askSelf(path: string, timeoutMs: number): Promise<SelfReport> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: path, path: '/self', method: 'GET' }, (res) => {
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => {
        try {
          if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text}`);
          resolve(JSON.parse(text) as SelfReport);
        } catch (err) {
          reject(err);
        }
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

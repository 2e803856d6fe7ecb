import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import type { ConsoleData } from '../console-data.js';
import type { PasswordHash } from '../password.js';
import { assetPaths } from './asset-paths.js';
import { basicAuth } from './basic-auth.js';
import { deviceAttribute, pageShell } from './page-shell.js';
import { parseInstant, parsePoints } from './query-params.js';

export interface ServerOptions {
  readonly data: ConsoleData;
  readonly log: Logger;
  readonly password: PasswordHash | undefined;
  readonly refreshMs: number;
}

const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const ASSETS: Record<string, { dir: 'public' | 'uplot'; file: string; type: string }> = {
  'console.css': { dir: 'public', file: 'console.css', type: 'text/css' },
  'common.js': { dir: 'public', file: 'common.js', type: 'text/javascript' },
  'fleet.js': { dir: 'public', file: 'fleet.js', type: 'text/javascript' },
  'releases.js': { dir: 'public', file: 'releases.js', type: 'text/javascript' },
  'device.js': { dir: 'public', file: 'device.js', type: 'text/javascript' },
  'charts.js': { dir: 'public', file: 'charts.js', type: 'text/javascript' },
  'uPlot.min.css': { dir: 'uplot', file: 'uPlot.min.css', type: 'text/css' },
  // uPlot's ES module build, loaded by charts.js with a plain import.
  'uPlot.esm.js': { dir: 'uplot', file: 'uPlot.esm.js', type: 'text/javascript' },
};
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * The console's HTTP surface: three pages, their JSON, and static files. GET only: the
 * console has no control actions (changes stay in git).
 */
export function buildServer(options: ServerOptions) {
  const { data, refreshMs } = options;
  // No log line per request: the pages poll. Failures are logged by the error handler.
  const app = Fastify({
    loggerInstance: options.log,
    logController: new LogController({ disableRequestLogging: true }),
  });
  const paths = assetPaths();

  app.addHook('onSend', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
  });
  if (options.password) app.addHook('onRequest', basicAuth(options.password));
  app.setErrorHandler(async (err: Error & { statusCode?: number }, request, reply) => {
    const status = err.statusCode;
    if (status !== undefined && status < 500)
      return reply.code(status).send({ error: err.message });
    request.log.error({ err, url: request.url }, 'console request failed');
    return reply.code(503).send({ error: 'the central database could not be read' });
  });
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).send({ error: 'not found' }));

  const HTML = 'text/html; charset=utf-8';
  app.get('/', async (_req, reply) =>
    reply.type(HTML).send(pageShell('fleet', 'Fleet', refreshMs)),
  );
  app.get('/releases', async (_req, reply) =>
    reply.type(HTML).send(pageShell('releases', 'Releases', refreshMs)),
  );
  app.get<{ Params: { id: string } }>('/devices/:id', async (req, reply) => {
    const id = req.params.id;
    if (!DEVICE_ID.test(id)) return reply.code(404).send({ error: 'not found' });
    return reply.type(HTML).send(pageShell('device', id, refreshMs, deviceAttribute(id)));
  });
  app.get('/healthz', async () => ({ ok: true }));

  app.get('/api/fleet', async () => data.fleet());
  app.get('/api/releases', async () => data.releases());
  app.get<{ Params: { id: string } }>('/api/devices/:id', async (req, reply) => {
    const found = DEVICE_ID.test(req.params.id) ? await data.device(req.params.id) : undefined;
    return found ?? reply.code(404).send({ error: 'no such device' });
  });
  app.get<{ Params: { id: string }; Querystring: { from?: string; to?: string; points?: string } }>(
    '/api/devices/:id/readings',
    async (req, reply) => {
      if (!DEVICE_ID.test(req.params.id)) return reply.code(404).send({ error: 'no such device' });
      const from = parseInstant(req.query.from);
      const to = parseInstant(req.query.to);
      const points = parsePoints(req.query.points);
      if (from === null || to === null) {
        return reply.code(400).send({ error: 'from and to: epoch milliseconds or an ISO time' });
      }
      if (points === null)
        return reply.code(400).send({ error: 'points: an integer from 10 to 5000' });
      const series = await data.readings(req.params.id, { from, to }, points);
      return series ?? reply.code(404).send({ error: 'no readings table' });
    },
  );

  app.get<{ Params: { name: string } }>('/assets/:name', async (req, reply) => {
    const asset = Object.hasOwn(ASSETS, req.params.name) ? ASSETS[req.params.name] : undefined;
    if (!asset) return reply.code(404).send({ error: 'not found' });
    const dir = asset.dir === 'public' ? paths.publicDir : paths.uplotDist;
    const body = await readFile(join(dir, asset.file));
    return reply.type(`${asset.type}; charset=utf-8`).send(body);
  });
  return app;
}

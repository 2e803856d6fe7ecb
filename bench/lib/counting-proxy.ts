// An HTTP proxy on 127.0.0.1 in front of a GitHttpServer that counts requests per client. Each
// client uses its own first path segment (/pi-17/app.git/...), which the proxy strips, so the
// requests of a fleet sharing one server can be told apart without touching the server.
import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';

/** Headers without the hop-by-hop ones, which belong to each connection, not the message. */
function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const { connection: _connection, 'keep-alive': _keepAlive, ...rest } = headers;
  return rest;
}

export class CountingProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly agent = new Agent({ keepAlive: true });
  private readonly counts = new Map<string, number>();
  /** Answers other than 2xx (a 401 would mean the token header went missing). */
  failures = 0;
  total = 0;
  port = 0;

  constructor(private readonly upstreamPort: number) {}

  /** The repository URL for one client: requests through it are counted under `client`. */
  url(client: string, repo: string): string {
    return `http://127.0.0.1:${this.port}/${client}/${repo}.git`;
  }

  /** Requests received from `client` so far. */
  count(client: string): number {
    return this.counts.get(client) ?? 0;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.forward(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.agent.destroy();
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const [, client = '', ...rest] = (req.url ?? '/').split('/');
    this.counts.set(client, this.count(client) + 1);
    this.total += 1;
    const upstream = request(
      {
        host: '127.0.0.1',
        port: this.upstreamPort,
        method: req.method,
        path: `/${rest.join('/')}`,
        headers: endToEnd(req.headers),
        agent: this.agent,
      },
      (answer) => {
        const status = answer.statusCode ?? 502;
        if (status < 200 || status >= 300) this.failures += 1;
        res.writeHead(status, endToEnd(answer.headers));
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      this.failures += 1;
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  }
}

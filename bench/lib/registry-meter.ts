// An HTTP proxy on 127.0.0.1 in front of a registry that counts the bytes the registry sends,
// so a pull's cost is measured where it is paid: at the registry, not from the engine's own
// progress messages. The engine pulls from 127.0.0.0/8 over plain HTTP without configuration.
import { Agent, createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { Socket } from 'node:net';

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const { connection: _connection, 'keep-alive': _keepAlive, ...rest } = headers;
  return rest;
}

export class RegistryMeter {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly agent = new Agent({ keepAlive: true });
  /** Response body bytes sent since the last reset: blobs (layers, configs) and manifests. */
  bytes = 0;
  /** Blob downloads (GET .../blobs/...) since the last reset. */
  blobs = 0;
  port = 0;

  constructor(private readonly upstream: string) {}

  /** host:port to pull through. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  reset(): void {
    this.bytes = 0;
    this.blobs = 0;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const [host, port] = this.upstream.split(':');
      if (req.method === 'GET' && /\/blobs\//.test(req.url ?? '')) this.blobs += 1;
      const upstream = request(
        {
          host,
          port: Number(port),
          method: req.method,
          path: req.url,
          headers: endToEnd(req.headers),
          agent: this.agent,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
          answer.on('data', (chunk: Buffer) => {
            this.bytes += chunk.length;
          });
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
    });
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
}

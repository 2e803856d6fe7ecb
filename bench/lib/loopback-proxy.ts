// An HTTP proxy on 127.0.0.1 for the benches that count what a server sends or receives: the
// listening, relaying and closing are here; what is counted and where a request goes are the
// subclass's (RegistryMeter, CountingProxy).
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

export interface RelayTarget {
  readonly host: string;
  readonly port: number;
  readonly path: string;
}

export abstract class LoopbackProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly agent = new Agent({ keepAlive: true });
  port = 0;

  /** Where `req` goes, after counting it; `relay` sends it there. */
  protected abstract forward(req: IncomingMessage, res: ServerResponse): void;

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

  /** Sends `req` to `target` and its answer back; `onAnswer` sees the answer (status, body
   * chunks) first, `onError` a failed upstream connection (answered 502). */
  protected relay(
    req: IncomingMessage,
    res: ServerResponse,
    target: RelayTarget,
    onAnswer: (answer: IncomingMessage) => void,
    onError: () => void = () => undefined,
  ): void {
    const upstream = request(
      { ...target, method: req.method, headers: endToEnd(req.headers), agent: this.agent },
      (answer) => {
        onAnswer(answer);
        res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      onError();
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  }
}

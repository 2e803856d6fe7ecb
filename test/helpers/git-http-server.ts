import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { KeyPair } from './test-ca.js';

const HTTP_BACKEND = process.env.OTA_GIT_HTTP_BACKEND ?? '/usr/lib/git-core/git-http-backend';

export interface GitServerOptions {
  /** Directory holding bare repositories, served as /<name>.git */
  readonly root: string;
  /** When set, every request must carry this token (HTTP Basic password, as GitHub takes a PAT). */
  readonly token?: string;
  /** Serve HTTPS with this key and certificate (see test-ca.ts) instead of plain HTTP. */
  readonly tls?: KeyPair;
}

export interface Traffic {
  requests: number;
  bytes: number;
  unauthorized: number;
  /**
   * TCP connections accepted, whether or not a request followed (git with GnuTLS completes
   * the handshake before it refuses a certificate, so refusals show as connections only).
   */
  connections: number;
}

const zero = (): Traffic => ({
  requests: 0,
  bytes: 0,
  unauthorized: 0,
  connections: 0,
});

/**
 * git's own smart-HTTP CGI (git http-backend) behind a small HTTP or HTTPS server on 127.0.0.1
 * that checks a token, counts requests and bytes on the wire, and can be told to fail or stall.
 */
export class GitHttpServer {
  private server: Server | HttpsServer | undefined;
  private readonly sockets = new Set<Socket>();
  private counted: Traffic = zero();
  private certificate: KeyPair | undefined;
  /** Next responses: an HTTP status to answer with instead of serving, or a delay. */
  fault: { status?: number; delayMs?: number } = {};
  port = 0;

  constructor(private readonly options: GitServerOptions) {
    this.certificate = options.tls;
  }

  url(repo: string, host = '127.0.0.1'): string {
    return `${this.options.tls ? 'https' : 'http'}://${host}:${this.port}/${repo}.git`;
  }

  /** HTTPS: serves another certificate from the next connection on (and after a restart). */
  useCertificate(pair: KeyPair): void {
    if (!this.options.tls) throw new Error('useCertificate needs a server started with tls');
    this.certificate = pair;
    (this.server as HttpsServer | undefined)?.setSecureContext(pair);
  }

  async start(port = 0): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    const server = this.certificate
      ? createHttpsServer(this.certificate, handler)
      : createServer(handler);
    server.on('connection', (socket: Socket) => {
      this.counted.connections += 1;
      this.sockets.add(socket);
      socket.on('close', () => {
        this.counted.bytes += socket.bytesRead + socket.bytesWritten;
        this.sockets.delete(socket);
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    this.server = server;
  }

  /** Closes the listener and every open connection: the server is gone. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Counters since the last reset; open connections are counted when they close. */
  async traffic(): Promise<Traffic> {
    for (const socket of this.sockets) socket.end();
    await new Promise((r) => setTimeout(r, 20));
    return { ...this.counted };
  }

  reset(): void {
    this.counted = zero();
  }

  private authorized(req: IncomingMessage): boolean {
    if (!this.options.token) return true;
    const header = req.headers.authorization ?? '';
    const [scheme, value = ''] = header.split(' ');
    if (scheme === 'Bearer') return value === this.options.token;
    if (scheme !== 'Basic') return false;
    const [, password] = Buffer.from(value, 'base64').toString().split(':');
    return password === this.options.token;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counted.requests += 1;
    if (this.fault.delayMs) await new Promise((r) => setTimeout(r, this.fault.delayMs));
    if (this.fault.status) {
      res.writeHead(this.fault.status, { 'content-type': 'text/plain' });
      res.end('injected fault\n');
      return;
    }
    if (!this.authorized(req)) {
      this.counted.unauthorized += 1;
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' });
      res.end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const cgi = spawn(HTTP_BACKEND, [], {
      env: {
        GIT_PROJECT_ROOT: this.options.root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        REMOTE_USER: 'test',
        REMOTE_ADDR: '127.0.0.1',
        PATH: process.env.PATH ?? '/usr/bin:/bin',
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    cgi.stdout.on('end', () => res.end());
    cgi.on('error', () => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  }
}

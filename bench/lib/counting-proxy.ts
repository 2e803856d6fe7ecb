// An HTTP proxy on 127.0.0.1 in front of a GitHttpServer that counts requests per client. Each
// client uses its own first path segment (/pi-17/app.git/...), which the proxy strips, so the
// requests of a fleet sharing one server can be told apart without touching the server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackProxy } from './loopback-proxy.js';

export class CountingProxy extends LoopbackProxy {
  private readonly counts = new Map<string, number>();
  /** Answers other than 2xx (a 401 would mean the token header went missing). */
  failures = 0;
  total = 0;

  constructor(private readonly upstreamPort: number) {
    super();
  }

  /** The repository URL for one client: requests through it are counted under `client`. */
  url(client: string, repo: string): string {
    return `http://127.0.0.1:${this.port}/${client}/${repo}.git`;
  }

  /** Requests received from `client` so far. */
  count(client: string): number {
    return this.counts.get(client) ?? 0;
  }

  protected forward(req: IncomingMessage, res: ServerResponse): void {
    const [, client = '', ...rest] = (req.url ?? '/').split('/');
    this.counts.set(client, this.count(client) + 1);
    this.total += 1;
    const target = { host: '127.0.0.1', port: this.upstreamPort, path: `/${rest.join('/')}` };
    this.relay(
      req,
      res,
      target,
      (answer) => {
        const status = answer.statusCode ?? 502;
        if (status < 200 || status >= 300) this.failures += 1;
      },
      () => {
        this.failures += 1;
      },
    );
  }
}

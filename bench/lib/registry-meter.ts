// An HTTP proxy on 127.0.0.1 in front of a registry that counts the bytes the registry sends,
// so a pull's cost is measured where it is paid: at the registry, not from the engine's own
// progress messages. The engine pulls from 127.0.0.0/8 over plain HTTP without configuration.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackProxy } from './loopback-proxy.js';

export class RegistryMeter extends LoopbackProxy {
  /** Response body bytes sent since the last reset: blobs (layers, configs) and manifests. */
  bytes = 0;
  /** Blob downloads (GET .../blobs/...) since the last reset. */
  blobs = 0;

  constructor(private readonly upstream: string) {
    super();
  }

  /** host:port to pull through. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  reset(): void {
    this.bytes = 0;
    this.blobs = 0;
  }

  protected forward(req: IncomingMessage, res: ServerResponse): void {
    const [host = '127.0.0.1', port] = this.upstream.split(':');
    if (req.method === 'GET' && /\/blobs\//.test(req.url ?? '')) this.blobs += 1;
    this.relay(req, res, { host, port: Number(port), path: req.url ?? '/' }, (answer) => {
      answer.on('data', (chunk: Buffer) => {
        this.bytes += chunk.length;
      });
    });
  }
}

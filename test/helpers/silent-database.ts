import { execFileSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { freePort } from './free-port.js';

export type Silence = 'accepts-then-silent' | 'packets-dropped';

/** Whether this machine can drop packets on loopback (root and iptables). */
export function canDropPackets(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('iptables', ['-S', 'INPUT'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * A central database that never answers, on a loopback port: either a server that accepts the
 * connection and says nothing (a half-open link), or a port whose packets an iptables rule on
 * `lo` drops (the SYN is never answered, as when a link goes down without a reset).
 */
export async function silentDatabase(
  mode: Silence,
): Promise<{ port: number; close: () => Promise<void> }> {
  if (mode === 'packets-dropped') {
    const port = await freePort();
    const rule = ['INPUT', '-i', 'lo', '-p', 'tcp', '--dport', String(port), '-j', 'DROP'];
    execFileSync('iptables', ['-I', ...rule]);
    return {
      port,
      close: async () => {
        execFileSync('iptables', ['-D', ...rule]);
      },
    };
  }
  const sockets: Socket[] = [];
  const server: Server = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

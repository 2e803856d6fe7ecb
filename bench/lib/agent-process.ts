// One real agent (a built dist/agent/main.js) as a child process of a bench: its log events,
// its RSS and CPU from /proc, and its V8 heap through the heap probe preloaded into it.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface AgentEvent {
  readonly msg: string;
  readonly time: number;
  readonly version?: string;
}

export interface MemorySample {
  readonly rssKb: number;
  readonly cpuTicks: number;
  /** From process.memoryUsage() inside the agent; undefined if the probe did not answer. */
  readonly heapUsed: number | undefined;
  readonly heapTotal: number | undefined;
  readonly external: number | undefined;
}

const PROBE = fileURLToPath(new URL('./heap-probe.js', import.meta.url));

export class AgentProcess {
  readonly events: AgentEvent[] = [];
  private child: ChildProcess | undefined;
  private exited = false;

  constructor(
    readonly label: string,
    private readonly mainJs: string,
    /** Node/V8 flags the agent runs with (those of Dockerfile.agent's CMD). */
    readonly nodeArgs: readonly string[],
    private readonly env: Record<string, string>,
  ) {}

  start(): void {
    const child = spawn(process.execPath, [...this.nodeArgs, '--import', PROBE, this.mainJs], {
      env: this.env,
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    child.on('exit', () => {
      this.exited = true;
    });
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          const e = JSON.parse(line);
          this.events.push({ msg: e.msg, time: Date.parse(e.time), version: e.version });
        } catch {
          // not a log event
        }
      }
    });
    this.child = child;
  }

  get pid(): number {
    if (!this.child?.pid || this.exited) throw new Error(`agent ${this.label} is not running`);
    return this.child.pid;
  }

  at(msg: string, version?: string): number | undefined {
    return this.events.find(
      (e) => e.msg === msg && (version === undefined || e.version === version),
    )?.time;
  }

  count(msg: string, since: number): number {
    return this.events.filter((e) => e.msg === msg && e.time >= since).length;
  }

  async sample(): Promise<MemorySample> {
    const pid = this.pid;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const heap = await this.heap();
    return {
      rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0),
      cpuTicks: Number(stat[11]) + Number(stat[12]), // utime + stime
      heapUsed: heap?.heapUsed,
      heapTotal: heap?.heapTotal,
      external: heap?.external,
    };
  }

  private heap(): Promise<NodeJS.MemoryUsage | undefined> {
    const child = this.child;
    if (!child?.connected) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        child.off('message', onMessage);
        resolve(undefined);
      }, 2_000);
      const onMessage = (m: unknown) => {
        const memory = (m as { memory?: NodeJS.MemoryUsage }).memory;
        if (!memory) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(memory);
      };
      child.on('message', onMessage);
      child.send('memory');
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || this.exited) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 8_000))]);
    if (!this.exited) child.kill('SIGKILL');
  }
}

export async function until(what: string, timeoutMs: number, check: () => boolean) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Least-squares slope of y over x. */
export function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return num / den;
}

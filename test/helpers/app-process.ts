import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const MAIN = join(import.meta.dirname, '../../dist/app/main.js');

export interface LogEvent {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** The built weather app (dist/app/main.js) as a real child process, with its JSON logs parsed. */
export class AppProcess {
  readonly events: LogEvent[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private output = '';

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString();
      let newline = this.output.indexOf('\n');
      while (newline >= 0) {
        const line = this.output.slice(0, newline);
        this.output = this.output.slice(newline + 1);
        try {
          this.events.push(JSON.parse(line) as LogEvent);
        } catch {
          this.events.push({ level: 0, msg: line });
        }
        newline = this.output.indexOf('\n');
      }
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  async waitFor(msg: string, timeoutMs = 20_000): Promise<LogEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((e) => e.msg === msg);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(
          `no "${msg}" log within ${timeoutMs} ms; got: ${JSON.stringify(this.events)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM, then the exit code. */
  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exited;
  }

  /** SIGKILL: a crash or a power cut of the process. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

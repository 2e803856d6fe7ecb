/**
 * The agent's last log lines in memory, for the diagnostics bundle of a remote action. It sees
 * the JSON lines pino writes, after redaction (log.ts), and passes each on unchanged.
 */
export class LogRing {
  private readonly lines: string[] = [];

  constructor(
    private readonly size: number,
    /** Where every line goes on to; null: nowhere (tests). */
    private readonly next: { write(line: string): unknown } | null = process.stdout,
  ) {}

  /** pino's destination interface: one call per log line. */
  write(chunk: string): void {
    this.next?.write(chunk);
    for (const line of chunk.split('\n')) {
      if (line.length === 0) continue;
      this.lines.push(line);
      if (this.lines.length > this.size) this.lines.shift();
    }
  }

  /** The last `n` lines, oldest first. */
  tail(n = this.size): string[] {
    return this.lines.slice(-n);
  }
}

import { Writable } from 'node:stream';
import { type AgentLogger, createAgentLogger } from '../../agent/log.js';

/** The agent's real logger (same redaction), writing its JSON lines into memory. */
export function captureLog(): {
  log: AgentLogger;
  lines: string[];
  events: () => Record<string, unknown>[];
} {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const log = createAgentLogger('debug', sink);
  return { log, lines, events: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

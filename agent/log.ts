import { pino } from 'pino';

/**
 * Root logger of the agent. JSON for `docker logs` and machines; secrets are redacted by path
 * wherever they appear in an event.
 */
export function createAgentLogger(level: string) {
  return pino({
    level,
    base: { app: 'ota-agent' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'token',
        '*.token',
        'password',
        '*.password',
        'auth',
        '*.auth',
        'headers.authorization',
      ],
      censor: '[redacted]',
    },
  });
}

export type AgentLogger = ReturnType<typeof createAgentLogger>;

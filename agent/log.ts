import { type DestinationStream, pino } from 'pino';

/** Paths of event fields that may carry secrets; pino replaces their values. */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  'auth',
  '*.auth',
  'headers.authorization',
];

/**
 * Root logger of the agent: JSON for `docker logs` and machines (stdout unless a destination
 * is given); secrets are redacted by path wherever they appear in an event.
 */
export function createAgentLogger(level: string, destination?: DestinationStream) {
  const options = {
    level,
    base: { app: 'ota-agent' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type AgentLogger = ReturnType<typeof createAgentLogger>;

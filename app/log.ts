import { pino } from 'pino';

/** Root logger of the app; JSON to stdout so `docker logs` shows one event per line. */
export function createLogger(level: string, base: Record<string, unknown>) {
  return pino({
    level,
    base,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['password', '*.password', 'connection.password', 'config.db.password'],
      censor: '[redacted]',
    },
  });
}

export type Logger = ReturnType<typeof createLogger>;

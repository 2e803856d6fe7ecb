import { pino } from 'pino';

/** The console's root logger: JSON lines on stdout; credentials never logged. */
export function createLogger(level: string) {
  return pino({
    level,
    base: { service: 'ota-console' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['password', '*.password', 'req.headers.authorization', 'config.db.password'],
      censor: '[redacted]',
    },
  });
}

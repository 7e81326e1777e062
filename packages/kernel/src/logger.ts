import { pino } from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; standard output when omitted. */
  destination?: pino.DestinationStream;
  /**
   * Standard output only: lines are written without blocking, those logged while a write is pending go
   * out together in the next one, and what is left is written when the process exits. A server logs a
   * line per request; writing each at once cost it about a twentieth of its time under load.
   */
  writeInBackground?: boolean;
}

/**
 * JSON lines with ISO time, level as a word and whatever context the caller binds; callers bind `service`
 * with `child({ service })`, once per service, so every line names the service it came from.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    },
    options.destination ??
      (options.writeInBackground ? pino.destination({ dest: 1, sync: false }) : undefined),
  );
}

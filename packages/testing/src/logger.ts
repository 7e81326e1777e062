import { createLogger, type Logger } from '@switchyard/kernel';

/** A logger for tests: LOG_LEVEL=debug shows what happened; quiet by default. */
export function silentLogger(): Logger {
  const level = process.env.TEST_LOG_LEVEL;
  return createLogger({ level: level === 'debug' || level === 'info' ? level : 'silent' });
}

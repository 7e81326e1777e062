export {
  afterCommit,
  createPool,
  type Pool,
  type PoolClient,
  type Queryable,
  withTransaction,
} from './db.ts';
export {
  createHttpApp,
  fieldErrorsFrom,
  type HttpApp,
  type HttpAppOptions,
  type ReadinessCheck,
  registerOperationalRoutes,
} from './http.ts';
export { type Clock, createUuidV7Generator, type IdGenerator, systemClock, uuidV7 } from './ids.ts';
export { createLogger, type Logger, type LoggerOptions, type LogLevel } from './logger.ts';
export { createMetrics, type Metrics } from './metrics.ts';
export {
  createMigrationCheck,
  MigrationError,
  type MigrationFile,
  type MigrationSet,
  migrate,
  readMigrationFiles,
} from './migrate.ts';
export {
  type FieldError,
  HttpProblem,
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  problemOf,
  problems,
} from './problem.ts';

export {
  CIRCUIT_STATE_GAUGE_VALUE,
  type CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
  createCircuitBreaker,
  exportBreakerStates,
  SOURCE_C_BREAKER,
} from './circuit-breaker.ts';
export { type Coalescer, createCoalescer } from './coalesce.ts';
export {
  afterCommit,
  collectCommitHooks,
  createPool,
  type NamedStatement,
  type Pool,
  type PoolClient,
  type Queryable,
  withTransaction,
} from './db.ts';
export {
  type AccessControl,
  createHttpApp,
  fieldErrorsFrom,
  type HttpApp,
  type HttpAppOptions,
  type ReadinessCheck,
  type RouteEntry,
  registerOperationalRoutes,
  routeTable,
} from './http.ts';
export {
  type Authenticate,
  type Authorize,
  type Credentials,
  credentialsOf,
  type Identity,
} from './identity.ts';
export { type Clock, createUuidV7Generator, type IdGenerator, systemClock, uuidV7 } from './ids.ts';
export { createLogger, type Logger, type LoggerOptions, type LogLevel } from './logger.ts';
export { createMetrics, type Metrics, type MetricsSnapshot, metricsText } from './metrics.ts';
export {
  createMigrationCheck,
  MigrationError,
  type MigrationFile,
  type MigrationSet,
  migrate,
  readMigrationFiles,
} from './migrate.ts';
export { decodePageCursor, encodePageCursor, isTimestamp } from './page-cursor.ts';
export {
  hashPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  passwordPolicyViolation,
  verifyPassword,
} from './passwords.ts';
export {
  type FieldError,
  HttpProblem,
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  problemOf,
  problems,
} from './problem.ts';

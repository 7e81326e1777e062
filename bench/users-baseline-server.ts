// Baseline for bench/auth.ts: the request path of `GET /api/v1/users/{id}` in apps/server without real
// authentication. The kernel's HTTP app (createHttpApp: request ids, JSON request log, metrics, the
// permission check), the gateway's hooks (security headers, CORS, rate limits) and the users service's
// routes, configured from the environment by apps/server's own readConfig and modulesFor, on the same
// database, with a memory cache. Only `access.authenticate` differs: it returns one fixed identity for any
// credentials, where the server verifies an access token or looks up an API key. The difference between
// the two processes' figures is what authentication costs (and, when the server runs on Redis, the shared
// cache too: this baseline always keeps its cache in process memory).
//
//   node bench/users-baseline-server.ts --user-id <uuid> [--role admin]
//
// Environment as for the server: DATABASE_URL (a database a Switchyard server has migrated), HOST, PORT,
// LOG_LEVEL, SWITCHYARD_RATE_LIMIT_*. Logs JSON lines on stdout like the server, among them
// `users baseline started` with `url` once it listens; SIGTERM closes it.
//
// Benchmark only: every request that carries any credentials is that user. It is not part of Switchyard,
// which has no way to turn authentication off.
import { parseArgs } from 'node:util';
import { createPostgresBus } from '@switchyard/bus-postgres';
import { createMemoryCache } from '@switchyard/cache';
import { can, isRole } from '@switchyard/contracts';
import {
  createHttpApp,
  createLogger,
  createMetrics,
  createPool,
  type Identity,
  registerOperationalRoutes,
  systemClock,
  uuidV7,
} from '@switchyard/kernel';
import { readConfig } from '../apps/server/src/config.ts';
import { modulesFor, serviceDepsOf } from '../apps/server/src/server.ts';
import { version } from '../apps/server/src/version.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const { values } = parseArgs({
  options: {
    'user-id': { type: 'string' },
    role: { type: 'string', default: 'admin' },
  },
});
const userId = values['user-id'] ?? '';
if (!UUID.test(userId)) throw new Error(`--user-id: expected a user's uuid, got ${JSON.stringify(userId)}`);
if (!isRole(values.role)) throw new Error(`--role: expected admin, operator or member, got ${values.role}`);
const role = values.role;

const config = readConfig(process.env);
if (!config.databaseUrl)
  throw new Error('DATABASE_URL: the database of the Switchyard server to compare with');
const log = createLogger({ level: config.logLevel });
const metrics = createMetrics();
// As apps/server/src/server.ts opens them.
const pool = createPool({
  connectionString: config.databaseUrl,
  maxConnections: 20,
  applicationName: 'switchyard-baseline',
});
const cache = createMemoryCache({ metrics });
// ServiceDeps needs a bus; it is never started (reading a user publishes nothing).
const bus = createPostgresBus({
  pool,
  log: log.child({ service: 'bus' }),
  clock: systemClock,
  ids: uuidV7,
  pollIntervalMs: 500,
  batchSize: 100,
});
// The secret only seals the auth service's keys, which this process never uses.
const services = modulesFor(config, Buffer.alloc(32), () => {});
const depsOf = serviceDepsOf(
  { db: pool, clock: systemClock, ids: uuidV7, bus, cache, metrics, clients: {} },
  log,
);

const fixed: Identity = { kind: 'user', userId, role };
const app = await createHttpApp({
  logger: log.child({ service: 'http' }),
  metrics,
  bodyLimitBytes: config.bodyLimitBytes,
  title: 'Switchyard users baseline',
  version,
  // The kernel calls this only for requests with credentials, as with the real authenticator.
  access: { authenticate: async () => ({ ...fixed }), authorize: can },
});
// In the order apps/server/src/server.ts registers them (the bench uses /ready as the server's).
registerOperationalRoutes(app, metrics, [
  { name: 'database', check: async () => (await pool.query('SELECT 1')).rowCount === 1 },
  { name: 'cache', check: () => cache.ping() },
]);
services.gateway.plugins?.(app, depsOf('gateway'));
services.users.routes?.(app, depsOf('users'));

const url = await app.listen({ port: config.port, host: config.host });
log.child({ service: 'switchyard' }).info({ url, user_id: userId, role }, 'users baseline started');

const stop = () => {
  app
    .close()
    .then(() => cache.close())
    .then(() => pool.end())
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

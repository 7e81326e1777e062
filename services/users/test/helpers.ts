import { type Bus, busMigrations, type CloudEvent, createInspector } from '@switchyard/bus';
import { createPostgresBus, postgresBusMigrations } from '@switchyard/bus-postgres';
import { type Cache, createMemoryCache } from '@switchyard/cache';
import {
  can,
  type Role,
  type ServiceDeps,
  USER_EVENTS_TOPIC,
  type UserAccount,
  type UserDirectory,
  UserEventCatalog,
} from '@switchyard/contracts';
import {
  createHttpApp,
  createMetrics,
  createPool,
  type HttpApp,
  HttpProblem,
  type Identity,
  migrate,
  type Pool,
  systemClock,
  uuidV7,
} from '@switchyard/kernel';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { usersService } from '../src/index.ts';

/** A password that passes the policy, for tests that do not care which one. */
export const GOOD_PASSWORD = 'correct horse battery staple';

export interface UsersHarness {
  app: HttpApp;
  deps: ServiceDeps;
  pool: Pool;
  cache: Cache;
  bus: Bus;
  directory: UserDirectory;
  /** Makes a user through the directory and a bearer token that authenticates as them. */
  user(role: Role, name?: string): Promise<UserAccount & { token: string }>;
  /** A request as the holder of `token` (none: anonymous). */
  call(
    token: string | undefined,
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    payload?: unknown,
  ): Promise<{ status: number; headers: Record<string, unknown>; body: unknown; json: <T>() => T }>;
  /** The user events in the outbox for `userId`, in commit order. */
  events(userId: string): Promise<CloudEvent[]>;
  /** Every user event in the outbox. */
  eventCount(): Promise<number>;
  close(): Promise<void>;
}

const inspect = createInspector(UserEventCatalog);

/** Whether an event matches the catalog (what every subscriber will validate it against). */
export function conformsToCatalog(event: CloudEvent): boolean {
  return inspect(event).kind === 'event';
}

/**
 * The users module on a fresh database of its own, mounted on the kernel's HTTP app with real access
 * control: test tokens map to identities of real users, checked against the real permission table.
 */
export async function startUsers(label: string): Promise<UsersHarness> {
  const log = silentLogger();
  const database: TestDatabase = await createTestDatabase(label);
  const pool = createPool({
    connectionString: database.url,
    maxConnections: 10,
    applicationName: 'users-test',
  });
  await migrate(pool, [busMigrations, postgresBusMigrations, ...usersService.migrations], log);
  const bus = createPostgresBus({
    pool,
    log,
    clock: systemClock,
    ids: uuidV7,
    pollIntervalMs: 200,
    batchSize: 100,
  });
  const cache = createMemoryCache();
  const metrics = createMetrics();
  const deps: ServiceDeps = {
    db: pool,
    log,
    clock: systemClock,
    ids: uuidV7,
    bus,
    cache,
    metrics,
    clients: {},
  };
  const directory = usersService.provides?.(deps).users;
  if (!directory) throw new Error('the users module provides no UserDirectory');

  const identities = new Map<string, Identity>();
  const app = await createHttpApp({
    logger: log,
    metrics,
    bodyLimitBytes: 64 * 1024,
    title: 'users test',
    version: '0',
    access: {
      authenticate: async (credentials) => {
        const identity = identities.get(credentials.token);
        if (!identity) throw new HttpProblem(401, 'unauthenticated', 'Unauthorized', 'unknown test token');
        return identity;
      },
      authorize: can,
    },
  });
  usersService.routes?.(app, deps);
  await app.ready();

  let made = 0;
  return {
    app,
    deps,
    pool,
    cache,
    bus,
    directory,
    async user(role, name) {
      made += 1;
      const label = name ?? `${role} ${made}`;
      const account = await directory.create({
        name: label,
        email: `${label.replace(/\W+/g, '.').toLowerCase()}.${uuidV7().slice(-8)}@example.com`,
        passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$not-a-real-hash',
        role,
      });
      const token = `token-${account.id}`;
      identities.set(token, { kind: 'user', userId: account.id, role });
      return { ...account, token };
    },
    async call(token, method, url, payload) {
      const response = await app.inject({
        method,
        url,
        headers: token ? { authorization: `Bearer ${token}` } : {},
        ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
      });
      return {
        status: response.statusCode,
        headers: response.headers,
        body: response.body ? response.json() : undefined,
        json: <T>() => response.json() as T,
      };
    },
    async events(userId) {
      const result = await pool.query<{ envelope: CloudEvent }>(
        'SELECT envelope FROM bus.outbox WHERE topic = $1 AND partition_key = $2 ORDER BY txid, position',
        [USER_EVENTS_TOPIC, userId],
      );
      return result.rows.map((row) => row.envelope);
    },
    async eventCount() {
      const result = await pool.query<{ count: string }>(
        'SELECT count(*) AS count FROM bus.outbox WHERE topic = $1',
        [USER_EVENTS_TOPIC],
      );
      return Number(result.rows[0]?.count);
    },
    async close() {
      await app.close();
      await bus.stop();
      await cache.close();
      await pool.end();
      await database.drop();
    },
  };
}

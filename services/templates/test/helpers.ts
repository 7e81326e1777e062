import { type Bus, busMigrations, type CloudEvent, createInspector } from '@switchyard/bus';
import { createPostgresBus, postgresBusMigrations } from '@switchyard/bus-postgres';
import { type Cache, createMemoryCache } from '@switchyard/cache';
import {
  can,
  type Role,
  type ServiceDeps,
  TEMPLATE_EVENTS_TOPIC,
  TemplateEventCatalog,
  type TemplateRenderer,
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
import { templatesService } from '../src/index.ts';

export interface Caller {
  id: string;
  role: Role;
  token: string;
}

export interface Response {
  status: number;
  headers: Record<string, unknown>;
  body: unknown;
  json: <T>() => T;
}

export interface TemplatesHarness {
  app: HttpApp;
  deps: ServiceDeps;
  pool: Pool;
  cache: Cache;
  bus: Bus;
  renderer: TemplateRenderer;
  /** A bearer token that authenticates as a new user of `role`. */
  caller(role: Role): Caller;
  /** A request as the holder of `token` (none: anonymous). */
  call(
    token: string | undefined,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    payload?: unknown,
  ): Promise<Response>;
  /** The template events in the outbox for `code`, in commit order. */
  events(code: string): Promise<CloudEvent[]>;
  /** Every template event in the outbox. */
  eventCount(): Promise<number>;
  close(): Promise<void>;
}

const inspect = createInspector(TemplateEventCatalog);

/** Whether an event matches the catalog (what every subscriber will validate it against). */
export function conformsToCatalog(event: CloudEvent): boolean {
  return inspect(event).kind === 'event';
}

/**
 * The templates module on a fresh database of its own, mounted on the kernel's HTTP app with real access
 * control: test tokens map to identities, checked against the real permission table.
 */
export async function startTemplates(label: string): Promise<TemplatesHarness> {
  const log = silentLogger();
  const database: TestDatabase = await createTestDatabase(label);
  const pool = createPool({
    connectionString: database.url,
    maxConnections: 10,
    applicationName: 'templates-test',
  });
  await migrate(pool, [busMigrations, postgresBusMigrations, ...templatesService.migrations], log);
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
  const renderer = templatesService.provides?.(deps).templates;
  if (!renderer) throw new Error('the templates module provides no TemplateRenderer');

  const identities = new Map<string, Identity>();
  const app = await createHttpApp({
    logger: log,
    metrics,
    bodyLimitBytes: 1024 * 1024,
    title: 'templates test',
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
  templatesService.routes?.(app, deps);
  await app.ready();

  return {
    app,
    deps,
    pool,
    cache,
    bus,
    renderer,
    caller(role) {
      const id = uuidV7();
      const token = `token-${id}`;
      identities.set(token, { kind: 'user', userId: id, role });
      return { id, role, token };
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
    async events(code) {
      const result = await pool.query<{ envelope: CloudEvent }>(
        'SELECT envelope FROM bus.outbox WHERE topic = $1 AND partition_key = $2 ORDER BY txid, position',
        [TEMPLATE_EVENTS_TOPIC, code],
      );
      return result.rows.map((row) => row.envelope);
    },
    async eventCount() {
      const result = await pool.query<{ count: string }>(
        'SELECT count(*) AS count FROM bus.outbox WHERE topic = $1',
        [TEMPLATE_EVENTS_TOPIC],
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

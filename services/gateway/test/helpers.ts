import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bus } from '@switchyard/bus';
import { type Cache, createMemoryCache } from '@switchyard/cache';
import type { ServiceDeps } from '@switchyard/contracts';
import {
  type Credentials,
  createHttpApp,
  createLogger,
  createMetrics,
  type HttpApp,
  HttpProblem,
  type Identity,
  type Logger,
  type Metrics,
  type Pool,
  registerOperationalRoutes,
} from '@switchyard/kernel';
import { silentLogger } from '@switchyard/testing';
import { createGatewayService, type GatewayOptions } from '../src/index.ts';

/** Test identities: what the auth service would resolve these tokens to. */
export const IDENTITIES: Record<string, Identity> = {
  'token-alice': { kind: 'user', userId: 'alice', role: 'member' },
  'token-bob': { kind: 'user', userId: 'bob', role: 'member' },
  'key-ci': { kind: 'api_key', userId: 'alice', role: 'admin', apiKeyId: 'ci' },
};

async function authenticate(credentials: Credentials): Promise<Identity> {
  const identity = IDENTITIES[credentials.token];
  if (!identity) throw new HttpProblem(401, 'invalid-token', 'Unauthorized', 'The token is not valid');
  return identity;
}

/** A dependency the gateway must not touch: using it fails the test. */
function untouchable<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get(_target, property) {
      throw new Error(`the gateway used deps.${name}.${String(property)}`);
    },
  });
}

export interface GatewayApp {
  app: HttpApp;
  metrics: Metrics;
  cache: Cache;
  /** Moves the clock the breakers and the memory cache read. */
  advance(ms: number): void;
  close(): Promise<void>;
}

export async function gatewayApp(
  options: GatewayOptions,
  overrides: { cache?: Cache; log?: Logger; nowMs?: { value: number } } = {},
): Promise<GatewayApp> {
  const now = overrides.nowMs ?? { value: Date.parse('2026-11-22T10:00:00Z') };
  const metrics = createMetrics();
  const cache = overrides.cache ?? createMemoryCache({ clock: () => now.value });
  const log = overrides.log ?? silentLogger();
  const app = await createHttpApp({
    logger: log,
    metrics,
    bodyLimitBytes: 1024,
    title: 'gateway test',
    version: '0',
    access: {
      authenticate,
      authorize: (role, permission) => role === 'admin' || permission === 'things:read',
    },
  });
  const deps: ServiceDeps = {
    db: untouchable<Pool>('db'),
    bus: untouchable<Bus>('bus'),
    ids: () => {
      throw new Error('the gateway used deps.ids');
    },
    log,
    clock: () => new Date(now.value),
    cache,
    metrics,
    clients: {},
  };
  const service = createGatewayService(options);
  service.plugins?.(app, deps);
  registerOperationalRoutes(app, metrics, []);
  app.get('/things', { config: { permission: 'things:read' } }, async () => ({ things: [] }));
  app.post('/things', { config: { permission: 'things:write' } }, async (request) => ({ got: request.body }));
  app.get('/open', { config: { permission: 'public' } }, async () => ({ open: true }));
  await service.routes?.(app, deps);
  await app.ready();
  return {
    app,
    metrics,
    cache,
    advance(ms) {
      now.value += ms;
    },
    async close() {
      await app.close();
      await service.close?.();
    },
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export interface Upstream {
  url: string;
  received: ReceivedRequest[];
  /** Connections opened to it, whether or not a request was read. */
  connections: number;
  close(): Promise<void>;
}

type Handler = (request: ReceivedRequest, response: ServerResponse) => void;

/** A real HTTP server on a free local port that records what reaches it. */
export async function startUpstream(
  handler: Handler,
  options: { dropConnections?: boolean } = {},
): Promise<Upstream> {
  const received: ReceivedRequest[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks),
      };
      received.push(entry);
      handler(entry, response);
    });
  });
  const upstream: Upstream = {
    url: '',
    received,
    connections: 0,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  server.on('connection', (socket) => {
    upstream.connections += 1;
    if (options.dropConnections) socket.destroy();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  upstream.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return upstream;
}

/** An instance that is "down": it accepts connections and drops them at once, and counts them. */
export function startBrokenUpstream(): Promise<Upstream> {
  return startUpstream(() => {}, { dropConnections: true });
}

/** Log lines, parsed, for checking what was logged and how often. */
export function capturingLogger(): { log: Logger; lines: Array<{ level: string; msg: string }> } {
  const lines: Array<{ level: string; msg: string }> = [];
  const log = createLogger({
    level: 'info',
    destination: {
      write(text: string) {
        lines.push(JSON.parse(text) as { level: string; msg: string });
      },
    },
  });
  return { log, lines };
}

export async function metricValue(metrics: Metrics, name: string, labels: Record<string, string>) {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) return undefined;
  const { values } = await metric.get();
  return values.find((value) => Object.entries(labels).every(([key, text]) => value.labels[key] === text))
    ?.value;
}

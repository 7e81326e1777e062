import type { Cache } from '@switchyard/cache';
import { can } from '@switchyard/contracts';
import {
  type Authenticate,
  type Credentials,
  credentialsOf,
  HttpProblem,
  type Logger,
  type Metrics,
} from '@switchyard/kernel';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Gauge } from 'prom-client';

// Keeps proxies and load balancers from closing an idle stream.
const HEARTBEAT_MS = 25_000;

export function inboxChannel(userId: string): string {
  return `inbox:${userId}`;
}

export type LiveTransport = 'sse' | 'socketio';

/** One open live connection of a user: a Server-Sent Events stream or a Socket.IO socket. */
export interface LiveConnection {
  userId: string;
  transport: LiveTransport;
  /** Passes on one new item, as the JSON text it was published as. */
  deliver(message: string): void;
  /** Hangs up; called when the inbox closes (shutdown) or its credentials no longer hold. */
  end(): void;
  /** What the connection authenticated with, checked again while it stays open (see `recheck`). */
  credentials: Credentials | undefined;
}

export interface LiveInbox {
  /** Tells every instance that `userId` has a new item; their open connections pass it on. */
  publish(userId: string, item: unknown): Promise<void>;
  /**
   * Registers an open connection; resolves once the user's items reach it, with the function to call
   * when it goes away. Rejects once the inbox is closed.
   */
  join(connection: LiveConnection): Promise<() => void>;
  /** Serves a Server-Sent Events stream of the user's new items until the client goes away. */
  stream(userId: string, request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /**
   * From now on, every `intervalMs`, authenticates each open connection's credentials again and ends
   * those that no longer name its user with `inbox:read` (expired, signed out, revoked, demoted,
   * disabled). A connection authenticates once, so without this it would outlive all of those. Clients
   * reconnect with their current credentials: a refreshed token carries on, an ended session is refused.
   * An answer that is not a refusal (a cache outage) keeps the connection.
   */
  recheck(authenticate: Authenticate, intervalMs: number): void;
  /** Runs `closer` when the inbox closes (a transport that must stop taking connections). */
  onClose(closer: () => void): void;
  /** Ends every open connection and refuses new ones. */
  close(): void;
}

function connectionsGauge(metrics: Metrics): Gauge<'transport'> {
  const existing = metrics.registry.getSingleMetric('websocket_connections_total');
  if (existing) return existing as Gauge<'transport'>;
  const gauge = new Gauge({
    name: 'websocket_connections_total',
    help: 'Open live connections to in-app inboxes, by transport',
    labelNames: ['transport'],
    registers: [metrics.registry],
  });
  // A series that exists at 0 lets dashboards and alerts tell "none open" from "not scraped".
  for (const transport of ['sse', 'socketio'] satisfies LiveTransport[]) gauge.set({ transport }, 0);
  return gauge;
}

function shuttingDown(): HttpProblem {
  return new HttpProblem(503, 'unavailable', 'Service Unavailable', 'The server is shutting down');
}

interface UserFeed {
  connections: Set<LiveConnection>;
  subscribed: Promise<() => Promise<void>>;
}

/**
 * Live in-app delivery. New items go through the cache's pub/sub (Redis in scale-out), so a user
 * connected to any instance hears of an item written by any other. Each instance subscribes to a user's
 * channel once, while that user has at least one connection to it, whatever the transport.
 */
export function createLiveInbox(deps: { cache: Cache; metrics: Metrics; log: Logger }): LiveInbox {
  const gauge = connectionsGauge(deps.metrics);
  const feeds = new Map<string, UserFeed>();
  const open = new Set<LiveConnection>();
  const closers: (() => void)[] = [];
  let closed = false;

  function feedOf(userId: string): UserFeed {
    const existing = feeds.get(userId);
    if (existing) return existing;
    const connections = new Set<LiveConnection>();
    const feed: UserFeed = {
      connections,
      subscribed: deps.cache.subscribe(inboxChannel(userId), (message) => {
        for (const connection of connections) {
          // One broken connection must not keep the item from the user's others.
          try {
            connection.deliver(message);
          } catch (error) {
            deps.log.warn({ err: error, transport: connection.transport }, 'could not pass on an inbox item');
          }
        }
      }),
    };
    // A failed subscription is forgotten so that the next connection tries again.
    feed.subscribed.catch(() => {
      if (feeds.get(userId) === feed) feeds.delete(userId);
    });
    feeds.set(userId, feed);
    return feed;
  }

  function release(userId: string, feed: UserFeed): void {
    if (feed.connections.size > 0 || feeds.get(userId) !== feed) return;
    feeds.delete(userId);
    feed.subscribed
      .then((unsubscribe) => unsubscribe())
      .catch((error: unknown) => deps.log.warn({ err: error }, 'could not end an inbox subscription'));
  }

  let rechecks: { authenticate: Authenticate; intervalMs: number } | undefined;
  const timers = new Map<LiveConnection, NodeJS.Timeout>();

  /** Each connection on its own timer, so rechecks spread over the interval as connections came. */
  function watch(connection: LiveConnection): void {
    const { credentials } = connection;
    if (!rechecks || !credentials || timers.has(connection)) return;
    const { authenticate, intervalMs } = rechecks;
    const timer = setInterval(() => {
      authenticate(credentials).then(
        (identity) => {
          if (identity.userId !== connection.userId || !can(identity.role, 'inbox:read')) connection.end();
        },
        (error: unknown) => {
          if (error instanceof HttpProblem && error.status === 401) connection.end();
        },
      );
    }, intervalMs);
    timer.unref();
    timers.set(connection, timer);
  }

  async function join(connection: LiveConnection): Promise<() => void> {
    if (closed) throw shuttingDown();
    const feed = feedOf(connection.userId);
    feed.connections.add(connection);
    try {
      await feed.subscribed;
    } catch (error) {
      feed.connections.delete(connection);
      throw error;
    }
    if (closed) {
      feed.connections.delete(connection);
      release(connection.userId, feed);
      throw shuttingDown();
    }
    open.add(connection);
    gauge.inc({ transport: connection.transport });
    watch(connection);
    let joined = true;
    return () => {
      if (!joined) return;
      joined = false;
      clearInterval(timers.get(connection));
      timers.delete(connection);
      open.delete(connection);
      gauge.dec({ transport: connection.transport });
      feed.connections.delete(connection);
      release(connection.userId, feed);
    };
  }

  return {
    async publish(userId, item) {
      await deps.cache.publish(inboxChannel(userId), JSON.stringify(item));
    },
    join,
    async stream(userId, request, reply) {
      const response = reply.raw;
      let heartbeat: NodeJS.Timeout | undefined;
      let leave: (() => void) | undefined;
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat);
        leave?.();
        response.end();
      };
      // Subscribed before the 200, so a failure is still an ordinary error response.
      leave = await join({
        userId,
        transport: 'sse',
        deliver: (message) => response.write(`event: notification\ndata: ${message}\n\n`),
        end,
        credentials: credentialsOf(request.headers),
      });
      reply.hijack();
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      // Sent once subscribed: a client that has read it will hear of every item written from then on.
      response.write(': connected\n\n');
      heartbeat = setInterval(() => response.write(': heartbeat\n\n'), HEARTBEAT_MS);
      response.on('close', end);
      // The client may have gone while the subscription was being made.
      if (!response.socket || response.socket.destroyed) end();
    },
    recheck(authenticate, intervalMs) {
      rechecks = { authenticate, intervalMs };
      for (const connection of open) watch(connection);
    },
    onClose(closer) {
      closers.push(closer);
    },
    close() {
      closed = true;
      for (const connection of [...open]) connection.end();
      for (const timer of timers.values()) clearInterval(timer);
      timers.clear();
      for (const closer of closers.splice(0)) closer();
    },
  };
}

import type {
  BatchEventHandler,
  Bus,
  CatalogEvent,
  EventCatalog,
  EventHandler,
  RetryPolicy,
  SubscribeOptions,
} from '@switchyard/bus';
import type { Cache } from '@switchyard/cache';
import type {
  Authenticate,
  Clock,
  HttpApp,
  IdGenerator,
  Logger,
  Metrics,
  MigrationSet,
  Pool,
} from '@switchyard/kernel';
import type { UserDirectory } from './identity.ts';
import type { TemplateRenderer } from './templates.ts';

/**
 * Typed clients one service offers the others (DESIGN: "a typed client interface declared in
 * contracts/"). In one process they are the providing module's own functions; they are looked up when a
 * request needs them, so modules may be wired in any order.
 */
export interface ServiceClients {
  users?: UserDirectory;
  templates?: TemplateRenderer;
}

/** What the process hands every service: plain values, no container. */
export interface ServiceDeps {
  db: Pool;
  log: Logger;
  clock: Clock;
  ids: IdGenerator;
  bus: Bus;
  cache: Cache;
  metrics: Metrics;
  clients: ServiceClients;
}

export interface SubscriptionSpec {
  group: string;
  topics: string[];
  handler: EventHandler;
  options: SubscribeOptions;
}

/**
 * A subscription whose handler receives events typed by `catalog`. The runner validates every event
 * against the catalog before the handler runs, which is what makes the narrowing below sound.
 */
export function defineSubscription<C extends EventCatalog>(spec: {
  group: string;
  topics: string[];
  catalog: C;
  handler: EventHandler<CatalogEvent<C>>;
  /** Narrows the catalog's events further (see SubscribeOptions). */
  accepts?: SubscribeOptions['accepts'];
  /** The same effect as `handler` for each event, for a batch at once (see SubscribeOptions). */
  batchHandler?: BatchEventHandler<CatalogEvent<C>>;
  retry?: RetryPolicy;
  concurrency?: number;
  decode?: SubscribeOptions['decode'];
}): SubscriptionSpec {
  return {
    group: spec.group,
    topics: spec.topics,
    handler: spec.handler as unknown as EventHandler,
    options: {
      catalog: spec.catalog,
      ...(spec.retry ? { retry: spec.retry } : {}),
      ...(spec.concurrency ? { concurrency: spec.concurrency } : {}),
      ...(spec.decode ? { decode: spec.decode } : {}),
      ...(spec.batchHandler ? { batchHandler: spec.batchHandler as unknown as BatchEventHandler } : {}),
      ...(spec.accepts ? { accepts: spec.accepts } : {}),
    },
  };
}

/** A bounded context as `apps/server` sees it; a service's `src/index.ts` exports exactly one. */
export interface ServiceModule {
  name: string;
  /** Its own schema(s), migrated before it starts. */
  migrations: MigrationSet[];
  /** Clients this module offers other modules. */
  provides?(deps: ServiceDeps): ServiceClients;
  /** Turns request credentials into an identity; only the auth module has one. */
  authenticator?(deps: ServiceDeps): Authenticate;
  /** Request hooks that apply to every route (gateway: headers, CORS, rate limits); run before routes. */
  plugins?(app: HttpApp, deps: ServiceDeps): void;
  routes?(app: HttpApp, deps: ServiceDeps): void | Promise<void>;
  /**
   * Runs once the process listens at `url` (bootstrap work: keys, the first admin). `server` is the
   * listening HTTP server (for protocols beside the routes, such as Socket.IO) and `authenticate` the
   * function requests are authenticated with.
   */
  start?(
    deps: ServiceDeps,
    context: { url: string; server: import('node:http').Server; authenticate: Authenticate },
  ): Promise<void>;
  /** Resources to release at shutdown, after the HTTP server has stopped. */
  close?(): Promise<void>;
  subscriptions?(deps: ServiceDeps): SubscriptionSpec[];
}

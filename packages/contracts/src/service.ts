import type {
  Bus,
  CatalogEvent,
  EventCatalog,
  EventHandler,
  RetryPolicy,
  SubscribeOptions,
} from '@switchyard/bus';
import type { Clock, HttpApp, IdGenerator, Logger, MigrationSet, Pool } from '@switchyard/kernel';

/** What the process hands every service: plain values, no container. */
export interface ServiceDeps {
  db: Pool;
  log: Logger;
  clock: Clock;
  ids: IdGenerator;
  bus: Bus;
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
    },
  };
}

/** A bounded context as `apps/server` sees it; a service's `src/index.ts` exports exactly one. */
export interface ServiceModule {
  name: string;
  /** Its own schema(s), migrated before it starts. */
  migrations: MigrationSet[];
  routes?(app: HttpApp, deps: ServiceDeps): void;
  subscriptions?(deps: ServiceDeps): SubscriptionSpec[];
}

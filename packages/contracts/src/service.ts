import type { Bus, EventHandler, RetryPolicy } from '@switchyard/bus';
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
  policy?: Partial<RetryPolicy>;
}

/** A bounded context as `apps/server` sees it; a service's `src/index.ts` exports exactly one. */
export interface ServiceModule {
  name: string;
  /** Its own schema(s), migrated before it starts. */
  migrations: MigrationSet[];
  routes?(app: HttpApp, deps: ServiceDeps): void;
  subscriptions?(deps: ServiceDeps): SubscriptionSpec[];
}

import type { Logger, Queryable } from '@switchyard/kernel';
import type { CatalogEvent, EventCatalog } from './catalog.ts';
import type { CloudEvent } from './envelope.ts';

/** Given to a handler: the transaction its writes must use (it also records the event as processed). */
export interface HandlerContext {
  tx: Queryable;
  log: Logger;
  /** 1 for the first try. */
  attempt: number;
}

export type EventHandler<E extends CloudEvent = CloudEvent> = (
  event: E,
  context: HandlerContext,
) => Promise<void>;

/**
 * Handles several events at once in one transaction (one statement for all of them, say). It must have
 * the same effect as the subscription's handler called for each event in order.
 */
export type BatchEventHandler<E extends CloudEvent = CloudEvent> = (
  events: E[],
  context: Omit<HandlerContext, 'attempt'>,
) => Promise<void>;

/**
 * Thrown by a batch handler that tried some events and saw them fail (a provider's transient error, say):
 * each of them has used its first attempt, so the one-at-a-time handling that follows goes on from its
 * first retry. Events not named have used none. Any other error from a batch handler counts for none.
 */
export class BatchEventsFailed extends Error {
  /** Event id → the error of its attempt. */
  readonly failures: ReadonlyMap<string, unknown>;

  constructor(failures: ReadonlyMap<string, unknown>) {
    const [first] = failures.values();
    super(
      `${failures.size} event(s) of the batch failed: ${first instanceof Error ? first.message : String(first)}`,
    );
    this.name = 'BatchEventsFailed';
    this.failures = failures;
  }
}

/**
 * How a subscription retries a failing handler: one delay per retry, so `[0, 2000, 4000]` retries at once,
 * then after 2 s, then after 4 s — four attempts in all — before the message goes to dead letters.
 */
export interface RetryPolicy {
  retryDelaysMs: number[];
}

/** Source system A's policy: retry immediately, after 2 s, after 4 s. The default. */
export const SOURCE_A_RETRY: RetryPolicy = { retryDelaysMs: [0, 2_000, 4_000] };
/** Source system C's policy: retry after 1 s, 2 s, 4 s. */
export const SOURCE_C_RETRY: RetryPolicy = { retryDelaysMs: [1_000, 2_000, 4_000] };

/** Events whose `data[dataField]` is one of `values`. */
export interface DataSelector {
  dataField: string;
  values: readonly string[];
}

/** Whether an event's data holds one of the selector's values in its field (a string, nothing else). */
export function selects(selector: DataSelector, data: unknown): boolean {
  if (typeof data !== 'object' || data === null) return false;
  const value = (data as Record<string, unknown>)[selector.dataField];
  return typeof value === 'string' && selector.values.includes(value);
}

export interface SubscribeOptions<C extends EventCatalog = EventCatalog> {
  /** Event types this subscription handles, with their `data` schemas; other types are passed over. */
  catalog?: C;
  /**
   * Optional: a narrower choice among the catalog's events by one string field of their data (one
   * channel's work, say: `{ dataField: 'channel', values: ['email'] }`). An event whose field holds
   * another value is passed over like a type outside the catalog: no handler runs, in a batch it costs
   * nothing, and the PostgreSQL bus does not even read it. Declared rather than a function so a bus can
   * apply it where the events are stored.
   */
  accepts?: DataSelector;
  retry?: RetryPolicy;
  /** Messages handled at once (order per partition key is kept whatever the number). Default 1. */
  concurrency?: number;
  /**
   * Reads messages that other producers put on the topic in their own format: returns the CloudEvent
   * (structured) the message stands for, or undefined to read it as a CloudEvent as usual.
   */
  decode?: (message: { value: unknown; key?: string; headers?: Record<string, string> }) => unknown;
  /**
   * Optional: used where the bus delivers a batch (a PostgreSQL pass, a Kafka fetch) whose events are new,
   * instead of the handler once per event. Retries, dead letters and single deliveries use the handler.
   */
  batchHandler?: BatchEventHandler<CatalogEvent<C>>;
}

/** A subscription as the runner holds it. */
export interface Subscription {
  group: string;
  topics: string[];
  handler: EventHandler;
  options: SubscribeOptions;
}

/**
 * The message bus as services see it. Events are published by appending to the outbox inside a write's
 * transaction (see `appendToOutbox`); adapters deliver them to subscriptions, at least once, in order per
 * partition key, and the consumer runner makes each effect happen once.
 */
export interface Bus {
  readonly kind: 'postgres' | 'kafka' | 'rabbitmq';
  /** Registers a handler for `topics` under consumer `group`; call before `start`. */
  subscribe<C extends EventCatalog>(
    group: string,
    topics: string[],
    handler: EventHandler<CatalogEvent<C>>,
    options?: SubscribeOptions<C>,
  ): void;
  start(): Promise<void>;
  /** Finishes the messages in hand, then stops every subscription (and the relay, for brokers). */
  stop(): Promise<void>;
  /** Resolves once `group` has dealt with (handled or dead-lettered) every event committed before the call. */
  drain(group: string): Promise<void>;
  /**
   * Optional: how many events wait for each consumer group subscribed in this process, for the overview.
   * Adapters answer what they can tell cheaply; `waiting` is null (with a `reason`) when they cannot.
   */
  lag?(): Promise<GroupLag[]>;
}

/** How far behind one consumer group is. */
export interface GroupLag {
  group: string;
  topics: string[];
  /** Events committed to the group's topics that it has not dealt with yet; null when unknown. */
  waiting: number | null;
  /** True when `waiting` reached the adapter's counting cap: there are at least that many. */
  capped: boolean;
  /** Why `waiting` is null, or anything else worth knowing about the figure. */
  reason?: string;
}

/** Lag counts stop here: a backlog this deep is a backlog, and counting further would cost a scan. */
export const LAG_COUNT_CAP = 10_000;

/**
 * Adds a subscription to a bus's list before `start`, refusing a late or duplicate group the same way
 * for every bus. The catalog validates events before the handler sees them, so the narrower handler
 * type holds at run time.
 */
export function addSubscription<C extends EventCatalog>(
  list: Subscription[],
  started: boolean,
  group: string,
  topics: string[],
  handler: EventHandler<CatalogEvent<C>>,
  options: SubscribeOptions<C>,
): void {
  if (started) throw new Error(`subscribe(${group}) after start`);
  if (list.some((subscription) => subscription.group === group)) {
    throw new Error(`consumer group ${group} is already subscribed`);
  }
  // The catalog validates events before either handler sees them, so the narrower types hold.
  list.push({
    group,
    topics,
    handler: handler as EventHandler,
    options: options as unknown as SubscribeOptions,
  });
}

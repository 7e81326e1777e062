import type { Logger, Queryable } from '@switchyard/kernel';
import type { CloudEvent } from './envelope.ts';

/** Given to a handler: the transaction its writes must use (it also records the event as processed). */
export interface HandlerContext {
  tx: Queryable;
  log: Logger;
}

export type EventHandler = (event: CloudEvent, context: HandlerContext) => Promise<void>;

/** How a subscription reacts to a failing handler. */
export interface RetryPolicy {
  /** Delay before the first retry; each further retry doubles it. */
  initialDelayMs: number;
  /** Ceiling for the doubled delay. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { initialDelayMs: 1_000, maxDelayMs: 30_000 };

/**
 * The message bus as services see it. Events are published by appending to the outbox inside a write's
 * transaction (see `appendToOutbox`); adapters deliver them to subscriptions, at least once, in order per
 * consumer group, and the runner makes each effect happen once.
 */
export interface Bus {
  /** Registers a handler for `topics` under consumer `group`; call before `start`. */
  subscribe(group: string, topics: string[], handler: EventHandler, policy?: Partial<RetryPolicy>): void;
  start(): Promise<void>;
  /** Finishes the batch in hand, then stops every subscription. */
  stop(): Promise<void>;
  /** Resolves once `group` has handled every event committed before the call. */
  drain(group: string): Promise<void>;
}

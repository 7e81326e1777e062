import type { Logger, Queryable } from '@switchyard/kernel';
import type { CloudEvent } from './envelope.ts';
import type { EventHandler, RetryPolicy } from './port.ts';

/**
 * Hands `event` to `handler` inside the caller's transaction unless `group` already processed it. The
 * processed-event row and the handler's writes commit together, so a redelivered event has no effect.
 * Returns false when the event was a duplicate.
 */
export async function deliverOnce(
  tx: Queryable,
  group: string,
  event: CloudEvent,
  handler: EventHandler,
  log: Logger,
): Promise<boolean> {
  const fresh = await tx.query(
    `INSERT INTO bus.processed_events (consumer_group, event_id) VALUES ($1, $2)
     ON CONFLICT DO NOTHING RETURNING 1`,
    [group, event.id],
  );
  if (fresh.rowCount === 0) {
    log.debug({ event_id: event.id, type: event.type }, 'duplicate event skipped');
    return false;
  }
  await handler(event, { tx, log: log.child({ event_id: event.id, event_type: event.type }) });
  return true;
}

/** Delay before retry number `attempt` (1-based): doubling from the initial delay, capped. */
export function retryDelayMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attempt - 1));
}

import { appendToOutbox, createEvent } from '@switchyard/bus';
import { NOTIFICATIONS_TOPIC, type ServiceDeps } from '@switchyard/contracts';
import { withTransaction } from '@switchyard/kernel';
import { requestsWithDueDelays, takeDueRequests } from './store.ts';

const BATCH = 500;

/**
 * Starts scheduled requests when their time comes, and releases deliveries held for quiet hours, by
 * queueing a `notification.requested` for the dispatcher. Time has no event to wait on, so this looks
 * every `intervalMs`; SKIP LOCKED lets every instance run it without doing anything twice.
 */
export function startScheduler(deps: ServiceDeps, intervalMs: number): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;

  async function tick(): Promise<void> {
    const now = deps.clock();
    await withTransaction(deps.db, async (tx) => {
      const due = [
        ...new Set([
          ...(await takeDueRequests(tx, now, BATCH)),
          ...(await requestsWithDueDelays(tx, now, BATCH)),
        ]),
      ];
      if (due.length === 0) return;
      await appendToOutbox(
        tx,
        NOTIFICATIONS_TOPIC,
        due.map((requestId) =>
          createEvent(
            { type: 'notification.requested', subject: requestId, data: { request_id: requestId } },
            {},
            { ...deps, source: '/switchyard/notifications/scheduler' },
          ),
        ),
      );
      deps.log.debug({ requests: due.length }, 'scheduled or held notifications released');
    });
  }

  const timer = setInterval(() => {
    if (stopped || running) return;
    running = tick()
      .catch((error: unknown) => deps.log.error({ err: error }, 'notification scheduler pass failed'))
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

import { CACHE_TTL_SECONDS, cacheKeys } from '@switchyard/cache';
import type { ServiceDeps } from '@switchyard/contracts';
import { type RequestStatus, requestStatus } from './domain.ts';
import { findRequest, listAttempts, listDeliveries } from './store.ts';

export interface StatusView {
  request_id: string;
  status: RequestStatus;
  priority: string;
  category: string | null;
  channels: string[];
  template_code: string | null;
  created_at: string;
  scheduled_at: string | null;
  deliveries: {
    id: string;
    recipient_index: number;
    user_id: string | null;
    address: string | null;
    channel: string;
    status: string;
    reason: string | null;
    not_before: string | null;
    provider: string | null;
    attempts: {
      attempt: number;
      at: string;
      provider: string;
      outcome: string;
      error: string | null;
      provider_message_id: string | null;
    }[];
  }[];
}

const iso = (value: Date | null) => (value ? new Date(value).toISOString() : null);

/** `notification:status:{request_id}` (24 h): read through, dropped whenever a delivery of it changes. */
export function statusCache(deps: Pick<ServiceDeps, 'db' | 'cache' | 'log'>) {
  async function load(requestId: string): Promise<StatusView | undefined> {
    const request = await findRequest(deps.db, requestId);
    if (!request) return undefined;
    // Deliveries first, then their attempts, not side by side: a report writes a delivery's status and
    // its attempt in one statement (recordAttempts), so attempts read afterwards hold every attempt the
    // statuses reflect. Read side by side, on two connections, a report committing between the two reads
    // showed a final `failed` without its failing attempt, and that settled view was cached.
    const deliveries = await listDeliveries(deps.db, requestId);
    const attempts = await listAttempts(deps.db, requestId);
    return {
      request_id: request.request_id,
      status: requestStatus(request.status, deliveries),
      priority: request.priority,
      category: request.category,
      channels: request.channels,
      template_code: request.template_code,
      created_at: new Date(request.created_at).toISOString(),
      scheduled_at: iso(request.scheduled_at),
      deliveries: deliveries.map((delivery) => ({
        id: delivery.id,
        recipient_index: delivery.recipient_index,
        user_id: delivery.user_id,
        address: delivery.address,
        channel: delivery.channel,
        status: delivery.status,
        reason: delivery.reason,
        not_before: iso(delivery.not_before),
        provider: delivery.provider,
        attempts: attempts
          .filter((attempt) => attempt.delivery_id === delivery.id)
          .map((attempt) => ({
            attempt: attempt.attempt,
            at: new Date(attempt.at).toISOString(),
            provider: attempt.provider,
            outcome: attempt.outcome,
            error: attempt.error,
            provider_message_id: attempt.provider_message_id,
          })),
      })),
    };
  }

  return {
    async get(requestId: string): Promise<StatusView | undefined> {
      const key = cacheKeys.notificationStatus(requestId);
      const cached = await deps.cache.get<StatusView>(key).catch(() => undefined);
      if (cached) return cached;
      const view = await load(requestId);
      // Only settled views are cached: one still moving would be dropped again at once.
      if (view && !['pending', 'scheduled'].includes(view.status)) {
        await deps.cache.set(key, view, CACHE_TTL_SECONDS.notificationStatus).catch(() => {});
      }
      return view;
    },
    /** One cache call for all of them: with Redis, or from the consumer thread, each call is a round trip. */
    async invalidate(requestIds: readonly string[]): Promise<void> {
      if (requestIds.length === 0) return;
      await deps.cache.delete(...requestIds.map(cacheKeys.notificationStatus)).catch((error: unknown) => {
        deps.log.warn({ err: error, request_ids: requestIds }, 'could not drop cached notification statuses');
      });
    },
  };
}

import { createHash } from 'node:crypto';
import {
  type Channel,
  type DeliveryStatus,
  isInQuietHours,
  type NotificationRecipient,
  type Priority,
} from '@switchyard/contracts';
import { decodePageCursor, encodePageCursor, isTimestamp } from '@switchyard/kernel';

/** A request id: the caller's (`request_id`, also an idempotency key) or one of ours. */
export const REQUEST_ID_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';

/** One recipient of a request: a user (every channel) or direct addresses (the channels they serve). */
export interface Recipient {
  user_id?: string | undefined;
  email?: string | undefined;
  phone?: string | undefined;
  push_token?: string | undefined;
  webhook_url?: string | undefined;
}

export const MAX_RECIPIENTS = 1000;

/** Which recipient field addresses which channel directly. */
const DIRECT_FIELDS: Record<Channel, keyof Recipient | undefined> = {
  email: 'email',
  sms: 'phone',
  push: 'push_token',
  webhook: 'webhook_url',
  in_app: undefined,
};

export interface PlannedDelivery {
  recipientIndex: number;
  userId: string | null;
  address: string | null;
  channel: Channel;
  status: 'pending' | 'skipped';
  reason: string | null;
}

/**
 * Every (recipient, channel) pair of a request. A user may get every channel; a direct address only
 * its own, and a pair nobody can serve is recorded as skipped with the reason, not silently dropped.
 */
export function planDeliveries(recipients: Recipient[], channels: Channel[]): PlannedDelivery[] {
  const planned: PlannedDelivery[] = [];
  recipients.forEach((recipient, recipientIndex) => {
    for (const channel of channels) {
      if (recipient.user_id) {
        planned.push({
          recipientIndex,
          userId: recipient.user_id,
          address: null,
          channel,
          status: 'pending',
          reason: null,
        });
        continue;
      }
      const field = DIRECT_FIELDS[channel];
      const address = field ? recipient[field] : undefined;
      planned.push({
        recipientIndex,
        userId: null,
        address: address ?? null,
        channel,
        status: address ? 'pending' : 'skipped',
        reason: address ? null : `no ${channel} address for this recipient`,
      });
    }
  });
  return planned;
}

/** A stable digest of a request body: keys sorted, so field order does not change it. */
export function bodyHash(body: unknown): string {
  return createHash('sha256').update(stableJson(body)).digest('hex');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${stableJson(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export type DeliveryDecision =
  | { kind: 'send'; address: string; locale: string | null }
  | { kind: 'skip'; reason: string }
  | { kind: 'delay'; until: Date };

// Channels that interrupt a person; the inbox waits silently, so quiet hours do not hold it back.
const INTERRUPTING: ReadonlySet<Channel> = new Set(['email', 'push', 'sms']);

/**
 * What to do with one delivery to a user, given their current profile: their preferences and opt-outs
 * decide whether it goes at all; quiet hours delay it unless it is critical.
 */
export function decideForUser(
  channel: Channel,
  user: NotificationRecipient | undefined,
  request: { category: string | null; priority: Priority },
  now: Date,
): DeliveryDecision {
  if (!user) return { kind: 'skip', reason: 'the user does not exist' };
  if (user.status !== 'active') return { kind: 'skip', reason: 'the user is disabled' };
  const preferences = user.preferences;
  if (!preferences[channel]) return { kind: 'skip', reason: `the user turned ${channel} off` };
  if (request.category && preferences.category_opt_outs.includes(request.category)) {
    return { kind: 'skip', reason: `the user opted out of ${request.category}` };
  }
  let address: string | null;
  switch (channel) {
    case 'email':
      address = user.email;
      break;
    case 'push':
      address = user.push_token;
      if (!address) return { kind: 'skip', reason: 'the user has no push token' };
      break;
    case 'sms':
      return { kind: 'skip', reason: 'the user has no phone number' };
    case 'webhook':
      return { kind: 'skip', reason: 'users have no webhook; address webhooks directly' };
    case 'in_app':
      address = user.id;
      break;
  }
  if (request.priority !== 'critical' && INTERRUPTING.has(channel) && isInQuietHours(preferences, now)) {
    return { kind: 'delay', until: quietHoursEnd(preferences, now) };
  }
  return { kind: 'send', address, locale: preferences.locale || user.locale || null };
}

/** The first minute after `now` outside the quiet hours (they last at most a day). */
export function quietHoursEnd(preferences: Parameters<typeof isInQuietHours>[0], now: Date): Date {
  const startOfMinute = Math.floor(now.getTime() / 60_000) * 60_000;
  for (let minute = 1; minute <= 24 * 60 + 60; minute += 1) {
    const candidate = new Date(startOfMinute + minute * 60_000);
    if (!isInQuietHours(preferences, candidate)) return candidate;
  }
  return new Date(startOfMinute + 24 * 3600_000);
}

export const REQUEST_STATUSES = [
  'scheduled',
  'pending',
  'sent',
  'delivered',
  'failed',
  'partially_failed',
  'skipped',
  'cancelled',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** One word for a request from its deliveries: what a dashboard shows in a list. */
export function requestStatus(
  requestState: 'scheduled' | 'accepted' | 'cancelled',
  deliveries: { status: DeliveryStatus }[],
): RequestStatus {
  if (requestState === 'scheduled') return 'scheduled';
  const statuses = new Set(deliveries.map((delivery) => delivery.status));
  if (statuses.has('pending')) return requestState === 'cancelled' ? 'cancelled' : 'pending';
  if (requestState === 'cancelled' && statuses.has('cancelled')) return 'cancelled';
  const failed = statuses.has('failed');
  const reached = statuses.has('sent') || statuses.has('delivered');
  if (failed) return reached ? 'partially_failed' : 'failed';
  if (statuses.has('sent')) return 'sent';
  if (statuses.has('delivered')) return 'delivered';
  return 'skipped';
}

/** Status order: a late "sent" never overwrites "delivered", nor anything overwrite a final failure. */
export function nextDeliveryStatus(
  current: DeliveryStatus,
  outcome: 'sent' | 'delivered' | 'failed' | 'retrying' | 'cancelled',
): DeliveryStatus {
  if (outcome === 'retrying') return current;
  if (outcome === 'cancelled') return current === 'pending' ? 'cancelled' : current;
  if (current === 'delivered' || current === 'skipped') return current;
  if (outcome === 'delivered') return 'delivered';
  // A replayed dead letter may succeed after a final failure: the last word is the truth.
  if (outcome === 'sent') return 'sent';
  return current === 'sent' ? 'sent' : 'failed';
}

/** A delivery's status and reason after one more attempt report (reports are applied in the order sent). */
export function afterAttempt(
  current: { status: DeliveryStatus; reason: string | null },
  attempt: { outcome: 'sent' | 'delivered' | 'failed' | 'retrying' | 'cancelled'; error: string | null },
): { status: DeliveryStatus; reason: string | null } {
  const status = nextDeliveryStatus(current.status, attempt.outcome);
  const reason =
    attempt.outcome === 'failed' ? attempt.error : status === current.status ? current.reason : null;
  return { status, reason };
}

/** Position after the last request of a page (newest first): its creation time and id. */
export interface RequestCursor {
  at: string;
  id: string;
}

export function encodeRequestCursor(request: { created_at: string; request_id: string }): string {
  return encodePageCursor({ at: request.created_at, id: request.request_id } satisfies RequestCursor);
}

const REQUEST_ID = new RegExp(REQUEST_ID_PATTERN);

export function decodeRequestCursor(text: string): RequestCursor {
  return decodePageCursor(text, ({ at, id }) =>
    isTimestamp(at) && typeof id === 'string' && REQUEST_ID.test(id) ? { at, id } : undefined,
  );
}

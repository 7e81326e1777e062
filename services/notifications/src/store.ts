import { type CloudEvent, outboxInsert } from '@switchyard/bus';
import { type Channel, type DeliveryStatus, NOTIFICATIONS_TOPIC, type Priority } from '@switchyard/contracts';
import type { Queryable } from '@switchyard/kernel';
import type { PlannedDelivery, RequestCursor, RequestStatus } from './domain.ts';

export interface StoredRequest {
  request_id: string;
  idempotency_key: string | null;
  body_hash: string;
  status: 'scheduled' | 'accepted' | 'cancelled';
  priority: Priority;
  category: string | null;
  template_code: string | null;
  /** The template of each channel (from template_code or templates). */
  templates: Record<string, string> | null;
  language: string | null;
  variables: Record<string, unknown>;
  content: { subject?: string; text: string; html?: string } | null;
  channels: Channel[];
  scheduled_at: Date | null;
  created_by: string | null;
  created_at: Date;
}

const REQUEST_COLUMNS =
  'request_id, idempotency_key, body_hash, status, priority, category, template_code, templates, language, variables, content, channels, scheduled_at, created_by, created_at';

/** A request to store, its deliveries, and (unless it is scheduled) the event that starts its dispatch. */
export interface NewRequest {
  request: StoredRequest;
  deliveries: (PlannedDelivery & { id: string })[];
  /** `notification.requested`, whose subject is the request id. */
  event: CloudEvent | undefined;
}

/**
 * Stores requests with their deliveries and events in one statement (one commit for them all). A request
 * whose id or idempotency key exists already (in the table, or earlier in `given`) is not written, nor
 * are its deliveries and event. Returns the ids of the requests written.
 */
export async function insertRequests(db: Queryable, given: NewRequest[]): Promise<Set<string>> {
  const events = given.flatMap((item) => (item.event ? [item.event] : []));
  // The events go in only beside their request: the outbox rows are those whose subject was written.
  const outbox = events.length > 0 ? outboxInsert(NOTIFICATIONS_TOPIC, events, 3) : undefined;
  const result = await db.query<{ request_id: string }>({
    // The statement is the request path's one round trip: parsed and planned once per connection.
    name: outbox ? 'notifications.insert-requests-with-events' : 'notifications.insert-requests',
    text: `WITH request AS (
       INSERT INTO notifications.requests (${REQUEST_COLUMNS}, updated_at)
       SELECT ${REQUEST_COLUMNS}, created_at
         FROM jsonb_to_recordset($1::jsonb) AS r(
           request_id text, idempotency_key text, body_hash text, status text, priority text, category text,
           template_code text, templates jsonb, language text, variables jsonb, content jsonb, channels text[],
           scheduled_at timestamptz, created_by uuid, created_at timestamptz, position int)
        ORDER BY position
       ON CONFLICT DO NOTHING
       RETURNING request_id, created_at
     ),
     deliveries AS (
       INSERT INTO notifications.deliveries (id, request_id, recipient_index, user_id, address, channel, status, reason, updated_at)
       SELECT d.id, request.request_id, d.recipient_index, d.user_id, d.address, d.channel, d.status, d.reason, request.created_at
         FROM jsonb_to_recordset($2::jsonb)
           AS d(id uuid, request_id text, recipient_index int, user_id uuid, address text, channel text, status text, reason text)
         JOIN request ON request.request_id = d.request_id
       RETURNING 1
     )
     ${outbox ? `, event AS (${outbox.sql.replace('RETURNING 1', "WHERE e.envelope->>'subject' IN (SELECT request_id FROM request) RETURNING 1")}) ` : ''}
     SELECT request_id FROM request`,
    values: [
      JSON.stringify(given.map((item, position) => ({ ...item.request, position }))),
      JSON.stringify(
        given.flatMap((item) =>
          item.deliveries.map((delivery) => ({
            id: delivery.id,
            request_id: item.request.request_id,
            recipient_index: delivery.recipientIndex,
            user_id: delivery.userId,
            address: delivery.address,
            channel: delivery.channel,
            status: delivery.status,
            reason: delivery.reason,
          })),
        ),
      ),
      ...(outbox ? outbox.values : []),
    ],
  });
  return new Set(result.rows.map((row) => row.request_id));
}

export async function findRequest(
  db: Queryable,
  requestId: string,
  forUpdate = false,
): Promise<StoredRequest | undefined> {
  const result = await db.query<StoredRequest>(
    `SELECT ${REQUEST_COLUMNS} FROM notifications.requests WHERE request_id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [requestId],
  );
  return result.rows[0];
}

/** Requests by id, in id order (the order locks are taken in, so two lockers cannot deadlock). */
export async function findRequests(
  db: Queryable,
  requestIds: string[],
  forUpdate = false,
): Promise<StoredRequest[]> {
  const result = await db.query<StoredRequest>(
    `SELECT ${REQUEST_COLUMNS} FROM notifications.requests WHERE request_id = ANY($1::text[])
      ORDER BY request_id${forUpdate ? ' FOR UPDATE' : ''}`,
    [requestIds],
  );
  return result.rows;
}

export async function findRequestByIdempotencyKey(
  db: Queryable,
  key: string,
): Promise<StoredRequest | undefined> {
  const result = await db.query<StoredRequest>(
    `SELECT ${REQUEST_COLUMNS} FROM notifications.requests WHERE idempotency_key = $1`,
    [key],
  );
  return result.rows[0];
}

export interface StoredDelivery {
  id: string;
  request_id: string;
  recipient_index: number;
  user_id: string | null;
  address: string | null;
  channel: Channel;
  status: DeliveryStatus;
  reason: string | null;
  not_before: Date | null;
  queued_at: Date | null;
  provider: string | null;
  attempts: number;
  updated_at: Date;
}

const DELIVERY_COLUMNS =
  'id, request_id, recipient_index, user_id, address, channel, status, reason, not_before, queued_at, provider, attempts, updated_at';

export async function listDeliveries(db: Queryable, requestId: string): Promise<StoredDelivery[]> {
  const result = await db.query<StoredDelivery>(
    `SELECT ${DELIVERY_COLUMNS} FROM notifications.deliveries WHERE request_id = $1 ORDER BY recipient_index, channel`,
    [requestId],
  );
  return result.rows;
}

/**
 * Deliveries of the requests that are ready to go: pending, not queued yet, past any quiet-hours delay.
 * Locked. Served by the (request_id, …) unique index whatever the statistics say (see migration 0003).
 */
export async function lockDueDeliveries(
  db: Queryable,
  requestIds: string[],
  now: Date,
): Promise<StoredDelivery[]> {
  const result = await db.query<StoredDelivery>(
    `SELECT ${DELIVERY_COLUMNS} FROM notifications.deliveries
      WHERE request_id = ANY($1::text[]) AND status = 'pending' AND queued_at IS NULL
        AND (not_before IS NULL OR not_before <= $2)
      ORDER BY request_id, recipient_index, channel FOR UPDATE`,
    [requestIds, now],
  );
  return result.rows;
}

export interface DeliveryChange {
  id: string;
  status: DeliveryStatus;
  reason: string | null;
  notBefore: Date | null;
  queued: boolean;
}

/**
 * One UPDATE for every change. The rows come from `unnest` over arrays, which the planner takes for a few
 * rows and joins by primary key; `jsonb_to_recordset` was planned for 100 and hashed against a scan of the
 * whole table.
 */
export async function applyDeliveryChanges(
  db: Queryable,
  changes: DeliveryChange[],
  now: Date,
): Promise<void> {
  if (changes.length === 0) return;
  await db.query(
    `UPDATE notifications.deliveries d
        SET status = c.status, reason = c.reason, not_before = c.not_before,
            queued_at = CASE WHEN c.queued THEN $6::timestamptz ELSE d.queued_at END, updated_at = $6
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::boolean[])
         AS c(id, status, reason, not_before, queued)
      WHERE d.id = c.id`,
    [
      changes.map((change) => change.id),
      changes.map((change) => change.status),
      changes.map((change) => change.reason),
      changes.map((change) => change.notBefore),
      changes.map((change) => change.queued),
      now,
    ],
  );
}

/** Deliveries by id, locked in id order. */
export async function lockDeliveries(db: Queryable, ids: string[]): Promise<StoredDelivery[]> {
  const result = await db.query<StoredDelivery>(
    `SELECT ${DELIVERY_COLUMNS} FROM notifications.deliveries WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
    [ids],
  );
  return result.rows;
}

export interface NewAttempt {
  deliveryId: string;
  attempt: number;
  outcome: string;
  at: Date;
  provider: string;
  error: string | null;
  providerMessageId: string | null;
}

/** Where a delivery stands after its attempts: status, reason, the last provider and the highest attempt. */
export interface DeliveryProgress {
  id: string;
  status: DeliveryStatus;
  reason: string | null;
  provider: string;
  attempts: number;
}

/** Stores attempts (a repeated report once) and moves their deliveries on, in one statement. */
export async function recordAttempts(
  db: Queryable,
  attempts: NewAttempt[],
  deliveries: DeliveryProgress[],
  now: Date,
): Promise<void> {
  if (attempts.length === 0) return;
  await db.query(
    `WITH attempt AS (
       INSERT INTO notifications.attempts (delivery_id, attempt, outcome, at, provider, error, provider_message_id)
       SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[])
       ON CONFLICT DO NOTHING RETURNING 1
     )
     UPDATE notifications.deliveries d
        SET status = c.status, reason = c.reason, provider = c.provider,
            attempts = GREATEST(d.attempts, c.attempts), updated_at = $13
       FROM unnest($8::uuid[], $9::text[], $10::text[], $11::text[], $12::int[]) AS c(id, status, reason, provider, attempts)
      WHERE d.id = c.id`,
    [
      attempts.map((attempt) => attempt.deliveryId),
      attempts.map((attempt) => attempt.attempt),
      attempts.map((attempt) => attempt.outcome),
      attempts.map((attempt) => attempt.at),
      attempts.map((attempt) => attempt.provider),
      attempts.map((attempt) => attempt.error),
      attempts.map((attempt) => attempt.providerMessageId),
      deliveries.map((delivery) => delivery.id),
      deliveries.map((delivery) => delivery.status),
      deliveries.map((delivery) => delivery.reason),
      deliveries.map((delivery) => delivery.provider),
      deliveries.map((delivery) => delivery.attempts),
      now,
    ],
  );
}

export interface StoredAttempt {
  delivery_id: string;
  attempt: number;
  outcome: string;
  at: Date;
  provider: string;
  error: string | null;
  provider_message_id: string | null;
}

export async function listAttempts(db: Queryable, requestId: string): Promise<StoredAttempt[]> {
  const result = await db.query<StoredAttempt>(
    `SELECT a.delivery_id, a.attempt, a.outcome, a.at, a.provider, a.error, a.provider_message_id
       FROM notifications.attempts a JOIN notifications.deliveries d ON d.id = a.delivery_id
      WHERE d.request_id = $1 ORDER BY a.at, a.attempt`,
    [requestId],
  );
  return result.rows;
}

/** Cancels what has not been handed to the workers; returns how many deliveries that stopped. */
export async function cancelRequest(db: Queryable, requestId: string, now: Date): Promise<number> {
  await db.query(
    `UPDATE notifications.requests SET status = 'cancelled', updated_at = $2 WHERE request_id = $1 AND status <> 'cancelled'`,
    [requestId, now],
  );
  const result = await db.query(
    `UPDATE notifications.deliveries SET status = 'cancelled', reason = 'cancelled by request', updated_at = $2
      WHERE request_id = $1 AND status = 'pending' AND queued_at IS NULL`,
    [requestId, now],
  );
  return result.rowCount ?? 0;
}

export interface RequestSummaryRow {
  request_id: string;
  status: RequestStatus;
  priority: Priority;
  category: string | null;
  channels: Channel[];
  template_code: string | null;
  subject: string | null;
  recipients: number;
  deliveries: number;
  created_by: string | null;
  created_at: Date;
  scheduled_at: Date | null;
}

/**
 * A request's status from its deliveries, as SQL, so a page can be filtered by it: the same rule as
 * `requestStatus` in domain.ts (test/list.test.ts holds the two together over every combination).
 */
const REQUEST_STATUS_SQL = `CASE
    WHEN r.status = 'scheduled' THEN 'scheduled'
    WHEN d.pending THEN CASE WHEN r.status = 'cancelled' THEN 'cancelled' ELSE 'pending' END
    WHEN r.status = 'cancelled' AND d.cancelled THEN 'cancelled'
    WHEN d.failed THEN CASE WHEN d.sent OR d.delivered THEN 'partially_failed' ELSE 'failed' END
    WHEN d.sent THEN 'sent'
    WHEN d.delivered THEN 'delivered'
    ELSE 'skipped'
  END`;

/** One page of requests, newest first, in keyset order, with their status as the status view shows it. */
export async function listRequests(
  db: Queryable,
  query: { status?: RequestStatus | undefined; after?: RequestCursor | undefined; limit: number },
): Promise<RequestSummaryRow[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  const bind = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (query.after) {
    where.push(`(r.created_at, r.request_id) < (${bind(new Date(query.after.at))}, ${bind(query.after.id)})`);
  }
  if (query.status) where.push(`s.status = ${bind(query.status)}`);
  const result = await db.query<RequestSummaryRow>(
    `SELECT r.request_id, s.status, r.priority, r.category, r.channels, r.template_code,
            r.content->>'subject' AS subject, d.recipients, d.deliveries, r.created_by, r.created_at,
            r.scheduled_at
       FROM notifications.requests r
       CROSS JOIN LATERAL (
         SELECT count(*)::int AS deliveries,
                count(DISTINCT recipient_index)::int AS recipients,
                COALESCE(bool_or(status = 'pending'), false) AS pending,
                COALESCE(bool_or(status = 'sent'), false) AS sent,
                COALESCE(bool_or(status = 'delivered'), false) AS delivered,
                COALESCE(bool_or(status = 'failed'), false) AS failed,
                COALESCE(bool_or(status = 'cancelled'), false) AS cancelled
           FROM notifications.deliveries WHERE request_id = r.request_id
       ) d
       CROSS JOIN LATERAL (SELECT ${REQUEST_STATUS_SQL} AS status) s
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY r.created_at DESC, r.request_id DESC
      LIMIT ${bind(query.limit)}`,
    values,
  );
  return result.rows;
}

/** Scheduled requests whose time has come, switched to accepted (one process does it: SKIP LOCKED). */
export async function takeDueRequests(db: Queryable, now: Date, limit: number): Promise<string[]> {
  const result = await db.query<{ request_id: string }>(
    `UPDATE notifications.requests SET status = 'accepted', updated_at = $1
      WHERE request_id IN (
        SELECT request_id FROM notifications.requests
         WHERE status = 'scheduled' AND scheduled_at <= $1 ORDER BY scheduled_at LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING request_id`,
    [now, limit],
  );
  return result.rows.map((row) => row.request_id);
}

/** Requests with deliveries held by quiet hours that may go now. */
export async function requestsWithDueDelays(db: Queryable, now: Date, limit: number): Promise<string[]> {
  const result = await db.query<{ request_id: string }>(
    `UPDATE notifications.deliveries SET not_before = NULL, updated_at = $1
      WHERE id IN (
        SELECT id FROM notifications.deliveries
         WHERE status = 'pending' AND queued_at IS NULL AND not_before <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING request_id`,
    [now, limit],
  );
  return [...new Set(result.rows.map((row) => row.request_id))];
}

export interface InboxItem {
  id: string;
  user_id: string;
  request_id: string | null;
  title: string | null;
  body: string;
  data: Record<string, string>;
  category: string | null;
  created_at: Date;
  read_at: Date | null;
  archived_at: Date | null;
}

/** Writes inbox items, one per delivery (a delivery written before is left as it is). */
export async function insertInboxItems(
  db: Queryable,
  items: (InboxItem & { delivery_id: string })[],
): Promise<void> {
  if (items.length === 0) return;
  await db.query(
    `INSERT INTO notifications.inbox (id, user_id, delivery_id, request_id, title, body, data, category, created_at)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::jsonb[],
                          $8::text[], $9::timestamptz[])
     ON CONFLICT (delivery_id) DO NOTHING`,
    [
      items.map((item) => item.id),
      items.map((item) => item.user_id),
      items.map((item) => item.delivery_id),
      items.map((item) => item.request_id),
      items.map((item) => item.title),
      items.map((item) => item.body),
      items.map((item) => JSON.stringify(item.data)),
      items.map((item) => item.category),
      items.map((item) => item.created_at),
    ],
  );
}

const INBOX_COLUMNS =
  'id, user_id, request_id, title, body, data, category, created_at, read_at, archived_at';

export async function listInbox(
  db: Queryable,
  userId: string,
  options: {
    unreadOnly: boolean;
    archived: boolean;
    limit: number;
    before?: { createdAt: Date; id: string } | undefined;
  },
): Promise<InboxItem[]> {
  const values: unknown[] = [userId, options.limit];
  const where = ['user_id = $1', options.archived ? 'archived_at IS NOT NULL' : 'archived_at IS NULL'];
  if (options.unreadOnly) where.push('read_at IS NULL');
  if (options.before) {
    values.push(options.before.createdAt, options.before.id);
    where.push('(created_at, id) < ($3, $4)');
  }
  const result = await db.query<InboxItem>(
    `SELECT ${INBOX_COLUMNS} FROM notifications.inbox WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $2`,
    values,
  );
  return result.rows;
}

export async function unreadCount(db: Queryable, userId: string): Promise<number> {
  const result = await db.query<{ count: number }>(
    'SELECT count(*)::int AS count FROM notifications.inbox WHERE user_id = $1 AND read_at IS NULL AND archived_at IS NULL',
    [userId],
  );
  return result.rows[0]?.count ?? 0;
}

/** Marks one item (or, without `id`, every item) read, unread or archived; returns how many changed. */
export async function markInbox(
  db: Queryable,
  userId: string,
  change: 'read' | 'unread' | 'archive',
  now: Date,
  id?: string,
): Promise<number> {
  // `now` is a parameter only where the statement uses it: PostgreSQL cannot type an unused one.
  const set =
    change === 'read'
      ? 'read_at = COALESCE(read_at, $3)'
      : change === 'unread'
        ? 'read_at = NULL'
        : 'archived_at = COALESCE(archived_at, $3)';
  const result = await db.query(
    `UPDATE notifications.inbox SET ${set} WHERE user_id = $1 AND ($2::uuid IS NULL OR id = $2)${id ? '' : ' AND archived_at IS NULL'}`,
    change === 'unread' ? [userId, id ?? null] : [userId, id ?? null, now],
  );
  return result.rowCount ?? 0;
}

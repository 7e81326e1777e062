import type { Queryable } from '@switchyard/kernel';
import type { ActivityEvent, StatsInterval } from './domain.ts';

export interface ProcessedEvent extends ActivityEvent {
  processedAt: string;
}

interface EventRow {
  /** Text, not the column's name: ORDER BY seq must sort the bigint, not this alias. */
  seq_text: string;
  event_id: string;
  user_id: string;
  event_type: string;
  occurred_at: Date;
  payload: Record<string, unknown> | null;
  processed_at: Date;
}

function toProcessed(row: EventRow): ProcessedEvent {
  return {
    eventId: row.event_id,
    userId: row.user_id,
    eventType: row.event_type,
    timestamp: row.occurred_at.toISOString(),
    ...(row.payload !== null ? { payload: row.payload } : {}),
    processedAt: row.processed_at.toISOString(),
  };
}

/** Stores a processed event once; the same eventId again changes nothing. */
export async function storeEvent(db: Queryable, event: ActivityEvent): Promise<void> {
  await db.query(
    `INSERT INTO activity.events (event_id, user_id, event_type, occurred_at, payload)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING`,
    [
      event.eventId,
      event.userId,
      event.eventType,
      event.timestamp,
      event.payload === undefined ? null : JSON.stringify(event.payload),
    ],
  );
}

/** Many events in one statement, as `storeEvent` would one by one (in order; a repeated id once). */
export async function storeEvents(db: Queryable, events: ActivityEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `INSERT INTO activity.events (event_id, user_id, event_type, occurred_at, payload)
     SELECT event_id, user_id, event_type, occurred_at, payload
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::jsonb[])
            WITH ORDINALITY AS batch (event_id, user_id, event_type, occurred_at, payload, position)
      ORDER BY position
     ON CONFLICT (event_id) DO NOTHING`,
    [
      events.map((event) => event.eventId),
      events.map((event) => event.userId),
      events.map((event) => event.eventType),
      events.map((event) => event.timestamp),
      events.map((event) => (event.payload === undefined ? null : JSON.stringify(event.payload))),
    ],
  );
}

export interface EventQuery {
  userId?: string;
  eventType?: string;
  from?: Date;
  to?: Date;
  /** Processing position to continue after (exclusive). */
  afterSeq?: bigint;
  /** Newest first instead of processing order. */
  newestFirst?: boolean;
  limit: number;
}

/** One page plus the position to continue from, when there is more. */
export async function queryEvents(
  db: Queryable,
  query: EventQuery,
): Promise<{ events: ProcessedEvent[]; nextSeq?: bigint; newestSeq?: bigint }> {
  const where: string[] = [];
  const values: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    where.push(sql.replace('?', `$${values.length}`));
  };
  if (query.userId !== undefined) add('user_id = ?', query.userId);
  if (query.eventType !== undefined) add('event_type = ?', query.eventType);
  if (query.from !== undefined) add('occurred_at >= ?', query.from);
  if (query.to !== undefined) add('occurred_at < ?', query.to);
  if (query.afterSeq !== undefined) add(query.newestFirst ? 'seq < ?' : 'seq > ?', query.afterSeq.toString());
  values.push(query.limit + 1);
  const result = await db.query<EventRow>(
    `SELECT seq::text AS seq_text, event_id, user_id, event_type, occurred_at, payload, processed_at FROM activity.events
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY seq ${query.newestFirst ? 'DESC' : 'ASC'} LIMIT $${values.length}`,
    values,
  );
  const rows = result.rows.slice(0, query.limit);
  const last = rows.at(-1);
  const newest = query.newestFirst ? rows[0] : last;
  return {
    events: rows.map(toProcessed),
    ...(result.rows.length > query.limit && last ? { nextSeq: BigInt(last.seq_text) } : {}),
    ...(newest ? { newestSeq: BigInt(newest.seq_text) } : {}),
  };
}

export interface StatsBucket {
  start: string;
  counts: Record<string, number>;
}

/** Events per type per interval, from the processed events; buckets with no events are left out. */
export async function eventStats(
  db: Queryable,
  from: Date,
  to: Date,
  interval: StatsInterval,
): Promise<StatsBucket[]> {
  const result = await db.query<{ bucket: Date; event_type: string; n: number }>(
    `SELECT date_bin($3::interval, occurred_at, $1::timestamptz) AS bucket, event_type, count(*)::int AS n
       FROM activity.events WHERE occurred_at >= $1 AND occurred_at < $2
      GROUP BY 1, 2 ORDER BY 1, 2`,
    [from, to, `1 ${interval}`],
  );
  const buckets = new Map<string, StatsBucket>();
  for (const row of result.rows) {
    const start = row.bucket.toISOString();
    const bucket = buckets.get(start) ?? { start, counts: {} };
    bucket.counts[row.event_type] = row.n;
    buckets.set(start, bucket);
  }
  return [...buckets.values()];
}

import type { Clock, IdGenerator, Queryable } from '@switchyard/kernel';
import { type CloudEvent, createEvent } from './envelope.ts';
import { appendToOutbox } from './outbox.ts';

/** Source system A's dead-letter topic. */
export const DEAD_LETTER_TOPIC = 'dead-letter-queue';
export const DEAD_LETTER_EVENT = 'switchyard.dead_letter.created';

/** Header the outbox relay puts on every message: the id of the outbox row it came from. */
export const OUTBOX_ID_HEADER = 'switchyard-outbox-id';

function outboxIdOf(headers: Record<string, string>): string | undefined {
  const id = headers[OUTBOX_ID_HEADER];
  return id && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) ? id : undefined;
}

export type DeadLetterReason = 'handler_failed' | 'malformed' | 'schema';

export interface NewDeadLetter {
  group: string;
  topic: string;
  event?: CloudEvent;
  /** The message as received (for events, its JSON). */
  payload: string;
  partitionKey?: string;
  headers: Record<string, string>;
  reason: DeadLetterReason;
  error: string;
  stack?: string;
  attempts: number;
  firstFailedAt: Date;
  lastFailedAt: Date;
}

export interface DeadLetter {
  id: string;
  consumer_group: string;
  topic: string;
  event_id: string | null;
  event_type: string | null;
  partition_key: string | null;
  payload: string;
  headers: Record<string, string>;
  reason: DeadLetterReason;
  error: string;
  stack: string | null;
  attempts: number;
  first_failed_at: string;
  last_failed_at: string;
  replayed_at: string | null;
  replay_count: number;
}

/** First lines of a stack, enough to find the failing code without storing megabytes. */
export function stackSummary(error: unknown, lines = 8): string | undefined {
  return error instanceof Error && error.stack
    ? error.stack.split('\n').slice(0, lines).join('\n')
    : undefined;
}

/**
 * Records a dead letter in the caller's transaction: the row, the group's processed-event mark (so a
 * broker redelivering the same message does not dead-letter it twice), and an event on
 * `dead-letter-queue` for anyone watching.
 */
export async function recordDeadLetter(
  tx: Queryable,
  letter: NewDeadLetter,
  deps: { clock: Clock; ids: IdGenerator },
): Promise<string> {
  const id = deps.ids();
  await tx.query(
    `INSERT INTO bus.dead_letters (id, consumer_group, topic, event_id, event_type, partition_key, payload, headers,
       reason, error, stack, attempts, first_failed_at, last_failed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [
      id,
      letter.group,
      letter.topic,
      letter.event?.id ?? null,
      letter.event?.type ?? null,
      letter.partitionKey ?? letter.event?.partitionkey ?? null,
      letter.payload,
      JSON.stringify(letter.headers),
      letter.reason,
      letter.error.slice(0, 4000),
      letter.stack ?? null,
      letter.attempts,
      letter.firstFailedAt,
      letter.lastFailedAt,
    ],
  );
  // A malformed message relayed from the outbox still has the id its row was written with; marking it
  // lets progress (drain, lag) be read from the database alone.
  const processedId = letter.event?.id ?? outboxIdOf(letter.headers);
  if (processedId) {
    await tx.query(
      'INSERT INTO bus.processed_events (consumer_group, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [letter.group, processedId],
    );
  }
  const notice = createEvent(
    {
      type: DEAD_LETTER_EVENT,
      subject: id,
      data: {
        dead_letter_id: id,
        consumer_group: letter.group,
        topic: letter.topic,
        event_id: letter.event?.id ?? null,
        event_type: letter.event?.type ?? null,
        reason: letter.reason,
        error: letter.error.slice(0, 1000),
        attempts: letter.attempts,
        first_failed_at: letter.firstFailedAt.toISOString(),
        last_failed_at: letter.lastFailedAt.toISOString(),
      },
    },
    letter.event
      ? {
          causationId: letter.event.id,
          ...(letter.event.correlationid ? { correlationId: letter.event.correlationid } : {}),
        }
      : {},
    { ...deps, source: '/switchyard/bus' },
  );
  await appendToOutbox(tx, DEAD_LETTER_TOPIC, [notice]);
  return id;
}

export interface DeadLetterFilter {
  topic?: string;
  group?: string;
  type?: string;
  /** Last failure at or after. */
  from?: Date;
  /** Last failure before. */
  to?: Date;
  /** Include letters already replayed (default: only those waiting). */
  includeReplayed?: boolean;
}

function where(filter: DeadLetterFilter, values: unknown[]): string {
  const clauses: string[] = [];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    clauses.push(sql.replace('?', `$${values.length}`));
  };
  if (filter.topic) add('topic = ?', filter.topic);
  if (filter.group) add('consumer_group = ?', filter.group);
  if (filter.type) add('event_type = ?', filter.type);
  if (filter.from) add('last_failed_at >= ?', filter.from);
  if (filter.to) add('last_failed_at < ?', filter.to);
  if (!filter.includeReplayed) clauses.push('replayed_at IS NULL');
  return clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
}

interface DeadLetterRow extends Omit<DeadLetter, 'first_failed_at' | 'last_failed_at' | 'replayed_at'> {
  first_failed_at: Date;
  last_failed_at: Date;
  replayed_at: Date | null;
}

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    ...row,
    first_failed_at: row.first_failed_at.toISOString(),
    last_failed_at: row.last_failed_at.toISOString(),
    replayed_at: row.replayed_at?.toISOString() ?? null,
  };
}

export async function listDeadLetters(
  db: Queryable,
  filter: DeadLetterFilter,
  limit = 100,
): Promise<DeadLetter[]> {
  const values: unknown[] = [];
  const sql = `SELECT * FROM bus.dead_letters ${where(filter, values)} ORDER BY last_failed_at DESC, id DESC LIMIT $${values.push(limit)}`;
  return (await db.query<DeadLetterRow>(sql, values)).rows.map(toDeadLetter);
}

export async function getDeadLetter(db: Queryable, id: string): Promise<DeadLetter | null> {
  const row = (await db.query<DeadLetterRow>('SELECT * FROM bus.dead_letters WHERE id = $1', [id])).rows[0];
  return row ? toDeadLetter(row) : null;
}

export class NotReplayableError extends Error {
  constructor(id: string) {
    super(
      `dead letter ${id} holds no valid event (it was malformed), so there is nothing to replay; discard it`,
    );
    this.name = 'NotReplayableError';
  }
}

/**
 * Sends a dead letter's event again, with its original id, to its original topic: the group that gave up
 * on it gets it afresh (its processed mark is lifted), groups that handled it skip it as a duplicate.
 */
export async function replayDeadLetter(tx: Queryable, id: string): Promise<'replayed' | 'missing'> {
  const row = (
    await tx.query<{ consumer_group: string; topic: string; event_id: string | null; payload: string }>(
      'SELECT consumer_group, topic, event_id, payload FROM bus.dead_letters WHERE id = $1 FOR UPDATE',
      [id],
    )
  ).rows[0];
  if (!row) return 'missing';
  if (!row.event_id) throw new NotReplayableError(id);
  const event = JSON.parse(row.payload) as CloudEvent;
  await tx.query('DELETE FROM bus.processed_events WHERE consumer_group = $1 AND event_id = $2', [
    row.consumer_group,
    row.event_id,
  ]);
  await appendToOutbox(tx, row.topic, [event]);
  await tx.query(
    'UPDATE bus.dead_letters SET replayed_at = now(), replay_count = replay_count + 1 WHERE id = $1',
    [id],
  );
  return 'replayed';
}

/** Ids of the waiting, replayable dead letters a filter selects. */
export async function replayableIds(db: Queryable, filter: DeadLetterFilter): Promise<string[]> {
  const values: unknown[] = [];
  const clauses = where({ ...filter, includeReplayed: false }, values);
  const sql = `SELECT id FROM bus.dead_letters ${clauses ? `${clauses} AND` : 'WHERE'} event_id IS NOT NULL ORDER BY last_failed_at, id`;
  return (await db.query<{ id: string }>(sql, values)).rows.map((row) => row.id);
}

export async function discardDeadLetter(db: Queryable, id: string): Promise<boolean> {
  return ((await db.query('DELETE FROM bus.dead_letters WHERE id = $1', [id])).rowCount ?? 0) > 0;
}

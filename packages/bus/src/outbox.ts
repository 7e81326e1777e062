import { BroadcastChannel } from 'node:worker_threads';
import { afterCommit, type Pool, type Queryable } from '@switchyard/kernel';
import type { CloudEvent } from './envelope.ts';
import type { DataSelector } from './port.ts';

/** Channel on which a committed outbox write wakes readers; polling remains the backstop. */
export const OUTBOX_CHANNEL = 'switchyard_outbox';

/**
 * Appends events to the outbox inside the caller's transaction, so they commit (and are published)
 * exactly when the caller's own rows do. One round trip, however many events.
 *
 * Readers are woken after the commit, not by a NOTIFY inside the transaction: PostgreSQL serialises the
 * commits of transactions that NOTIFY, which capped writes at a few hundred a second. In a transaction
 * that `withTransaction` does not run (no commit hook), the NOTIFY stays inside.
 */
export async function appendToOutbox(
  tx: Queryable,
  topic: string,
  events: CloudEvent[],
  headersOf?: (event: CloudEvent) => Record<string, string>,
): Promise<void> {
  if (events.length === 0) return;
  const announced = afterCommit(tx, () => announceOutboxCommit(topic));
  const insert = outboxInsert(topic, events, 1, headersOf);
  // Named: parsed and planned once per connection. Planned afresh, each batch's envelopes were copied
  // into the plan as a constant several times over (docs/BENCHMARKS.md, stop 18).
  await tx.query({
    name: `bus.outbox-append${announced ? '' : '-notify'}${headersOf ? '-headers' : ''}`,
    text: `WITH appended AS (${insert.sql}) SELECT ${announced ? '1' : `pg_notify($${insert.values.length + 1}, $1)`}`,
    values: announced ? insert.values : [...insert.values, OUTBOX_CHANNEL],
  });
}

/**
 * The outbox INSERT as a statement to embed in a caller's own (e.g. as a CTE beside the row it goes
 * with, for a write in one round trip), numbering its parameters from `firstParameter`. After such a
 * statement commits outside `withTransaction`, call `announceOutboxCommit(topic)`.
 *
 * The envelopes (and headers) go as one jsonb array each (`jsonbArray`), not as a `jsonb[]`: the driver
 * would quote and escape every envelope into an array literal (a rope of strings it then flattens to
 * measure), and PostgreSQL would unquote it again before parsing each element. That was a tenth of the
 * bus thread's work and a sixth of PostgreSQL's on the Kafka path (docs/BENCHMARKS.md, stop 18).
 */
export function outboxInsert(
  topic: string,
  events: CloudEvent[],
  firstParameter: number,
  headersOf?: (event: CloudEvent) => Record<string, string>,
): { sql: string; values: unknown[] } {
  const [t, envelopes, headers] = [0, 1, 2].map((i) => `$${firstParameter + i}`);
  const values: unknown[] = [topic, jsonbArray(events)];
  if (headersOf) values.push(jsonbArray(events.map(headersOf)));
  // The id and key columns come from the envelope itself. ROWS FROM zips the two arrays: the nth
  // envelope and the nth headers make the nth row.
  return {
    sql: `INSERT INTO bus.outbox (topic, event_id, partition_key, envelope, headers)
          SELECT ${t}::text, (envelope->>'id')::uuid, envelope->>'partitionkey', envelope, ${headersOf ? 'headers' : `'{}'::jsonb`}
            FROM ROWS FROM (jsonb_array_elements(${envelopes}::jsonb)${
              headersOf ? `, jsonb_array_elements(${headers}::jsonb)` : ''
            }) AS e(envelope${headersOf ? ', headers' : ''})
          RETURNING 1`,
    values,
  };
}

/** The one version of jsonb's binary format: the JSON text follows it. */
const JSONB_BINARY_VERSION = 1;

/**
 * `items` as one jsonb array in PostgreSQL's binary format (a version byte, then the JSON text), which
 * the driver sends as it is. Each item is serialised on its own and copied in: V8 serialises small
 * values faster than one large array, and joining the strings would build a rope to flatten.
 */
function jsonbArray(items: readonly unknown[]): Buffer {
  const texts = items.map((item) => JSON.stringify(item) ?? 'null');
  let size = 3 + Math.max(0, texts.length - 1);
  for (const text of texts) size += Buffer.byteLength(text);
  const array = Buffer.allocUnsafe(size);
  array[0] = JSONB_BINARY_VERSION;
  array[1] = 0x5b; // [
  let at = 2;
  for (let index = 0; index < texts.length; index += 1) {
    if (index > 0) array[at++] = 0x2c; // ,
    at += array.write(texts[index] as string, at);
  }
  array[at] = 0x5d; // ]
  return array;
}

/** Something in this process that reads the outbox and wants to hear of commits at once. */
export interface CommitListener {
  wake(topic: string): void;
  /** A pool to tell other processes through, with one coalesced NOTIFY. */
  pool: Pool;
}

const listeners = new Set<CommitListener>();

/** Registers a reader of this process; returns the function that unregisters it. */
export function onOutboxCommit(listener: CommitListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Delay within which the commits of this process are announced to other processes in one NOTIFY. */
const NOTIFY_COALESCE_MS = 5;

/**
 * Gathers topics and sends them together when `schedule` runs its callback: one message for however
 * many commits came before it.
 */
function topicBatcher(
  schedule: (flush: () => void) => void,
  send: (topics: string[]) => void,
): (topic: string) => void {
  const pending = new Set<string>();
  let scheduled = false;
  return (topic) => {
    pending.add(topic);
    if (scheduled) return;
    scheduled = true;
    schedule(() => {
      scheduled = false;
      const topics = [...pending];
      pending.clear();
      send(topics);
    });
  };
}

const notifyOtherProcesses = topicBatcher(
  (flush) => setTimeout(flush, NOTIFY_COALESCE_MS).unref(),
  (topics) => {
    const [first] = listeners;
    // With no reader registered here there is no pool to speak through; other processes then rely on
    // their polling, as they do for any missed notification.
    first?.pool
      .query('SELECT pg_notify($1, topic) FROM unnest($2::text[]) AS topic', [OUTBOX_CHANNEL, topics])
      .catch(() => {});
  },
);

// One message per turn of the event loop, however many commits it saw.
const tellOtherThreads = topicBatcher(setImmediate, (topics) => threadLink?.postMessage(topics));

/**
 * Tells this thread's readers (at once), readers in the process's other threads when they are linked
 * (`linkOutboxCommitsAcrossThreads`), and other processes (one NOTIFY soon) that `topic` has new events.
 */
export function announceOutboxCommit(topic: string): void {
  announceHere(topic);
  if (threadLink) tellOtherThreads(topic);
}

function announceHere(topic: string): void {
  for (const listener of listeners) listener.wake(topic);
  notifyOtherProcesses(topic);
}

/** Name of the channel on which threads of one process tell each other of outbox commits. */
const THREAD_CHANNEL = 'switchyard:outbox-commits';
let threadLink: BroadcastChannel | undefined;
let threadLinks = 0;

/**
 * Commits announced in any linked thread of this process wake this thread's readers too, at once rather
 * than at their next poll (the request thread writes, the consumer thread reads). A commit heard from
 * another thread is also passed on to other processes by NOTIFY, since the writing thread may have no
 * reader, and so no pool, of its own. Each call must be undone by calling the function it returns.
 */
export function linkOutboxCommitsAcrossThreads(): () => void {
  if (!threadLink) {
    const link = new BroadcastChannel(THREAD_CHANNEL);
    link.onmessage = (message) => {
      const topics = (message as { data: unknown }).data;
      if (!Array.isArray(topics)) return;
      for (const topic of topics) if (typeof topic === 'string') announceHere(topic);
    };
    // The link must not keep a thread alive once its readers and writers are done.
    link.unref();
    threadLink = link;
  }
  threadLinks += 1;
  let linked = true;
  return () => {
    if (!linked) return;
    linked = false;
    threadLinks -= 1;
    if (threadLinks === 0) {
      threadLink?.close();
      threadLink = undefined;
    }
  };
}

/** A reader's place in the outbox: the last (transaction id, position) it has dealt with. */
export interface OutboxCursor {
  txid: bigint;
  position: bigint;
}

export const OUTBOX_START: OutboxCursor = { txid: 0n, position: 0n };

export interface OutboxRecord {
  cursor: OutboxCursor;
  topic: string;
  /** The partition key as written (the envelope may be anything, if it was written by hand). */
  key: string;
  /** The event id as written. */
  eventId: string;
  event: CloudEvent;
  /** Extra broker headers written with the event. */
  headers: Record<string, string>;
}

export function cursorAfter(a: OutboxCursor, b: OutboxCursor): boolean {
  return a.txid > b.txid || (a.txid === b.txid && a.position > b.position);
}

/**
 * `topic = $1` for the usual single topic, so the planner walks the (topic, txid, position) index in
 * order; `topic = ANY($1)` made it scan and sort the whole backlog behind the cursor (174 ms against
 * 0.17 ms per read with 100,000 rows behind, before the table had statistics).
 */
function topicFilter(topics: string[] | null): string {
  if (topics === null) return '$1::text[] IS NULL';
  return topics.length === 1 ? 'topic = $1::text' : 'topic = ANY($1::text[])';
}

/** The columns every read returns, before the envelope (or what is taken from it). */
interface RowPlace {
  txid_text: string;
  position_text: string;
  topic: string;
  partition_key: string;
  event_id: string;
  headers: Record<string, string>;
}

interface OutboxRow extends RowPlace {
  /** SQL NULL for a row of a type the reader passes over (the column itself is NOT NULL). */
  envelope: CloudEvent | null;
}

/** What a reader takes; the other rows come back without their envelope. */
export interface OutboxSelection {
  /** Event types (a catalog's); all when absent. */
  types?: string[] | undefined;
  /** A narrower choice by one string field of the data (a subscription's `accepts`). */
  accepts?: DataSelector | undefined;
}

/**
 * Rows of `topics` (every topic when null) after `cursor`, in commit-safe order, with the columns of
 * `RowPlace` and those `columns` adds (it may push parameters after the first four).
 */
async function readAfter<Row extends RowPlace>(
  db: Queryable,
  topics: string[] | null,
  cursor: OutboxCursor,
  limit: number,
  columns: (params: unknown[]) => string,
  /** A statement name, when the text is always the same for it. */
  name?: string,
): Promise<Row[]> {
  const params: unknown[] = [
    topics?.length === 1 ? topics[0] : topics,
    cursor.txid.toString(),
    cursor.position.toString(),
    limit,
  ];
  const more = columns(params);
  // The text aliases differ from the column names: ORDER BY a bare name would sort the text alias.
  const text = `SELECT txid::text AS txid_text, position::text AS position_text, topic, partition_key, event_id, headers, ${more}
       FROM bus.outbox
      WHERE ${topicFilter(topics)}
        AND (txid, position) > ($2::text::xid8, $3::bigint)
        AND txid < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY txid, position
      LIMIT $4`;
  const result = await (name ? db.query<Row>({ name, text, values: params }) : db.query<Row>(text, params));
  return result.rows;
}

/**
 * The read behind `readOutboxSelecting`. A row the selection leaves out comes back without its
 * envelope: PostgreSQL tells from the stored jsonb, and the reader neither receives nor parses an event
 * it would only pass over. Only a row that plainly names something else is left out (a string type
 * outside `types`, a string field outside `accepts`); anything else (no type, not an object, a field
 * missing) is read, so the runner can dead-letter it as malformed.
 */
function readRows(
  db: Queryable,
  topics: string[],
  cursor: OutboxCursor,
  limit: number,
  selection: OutboxSelection,
): Promise<OutboxRow[]> {
  return readAfter<OutboxRow>(db, topics, cursor, limit, (params) => {
    const leftOut: string[] = [];
    if (selection.types) {
      params.push(selection.types);
      leftOut.push(
        `(jsonb_typeof(envelope->'type') = 'string' AND NOT (envelope->>'type' = ANY($${params.length}::text[])))`,
      );
    }
    if (selection.accepts) {
      params.push(selection.accepts.dataField, selection.accepts.values);
      const [field, values] = [params.length - 1, params.length];
      leftOut.push(
        `(jsonb_typeof(envelope->'data'->$${field}::text) = 'string' AND NOT (envelope->'data'->>$${field}::text = ANY($${values}::text[])))`,
      );
    }
    // CASE WHEN takes a NULL condition as false: only a row plainly left out loses its envelope.
    return leftOut.length === 0
      ? 'envelope'
      : `CASE WHEN ${leftOut.join(' OR ')} THEN NULL ELSE envelope END AS envelope`;
  });
}

function cursorOf(row: RowPlace): OutboxCursor {
  return { txid: BigInt(row.txid_text), position: BigInt(row.position_text) };
}

function recordOf(row: OutboxRow, event: CloudEvent): OutboxRecord {
  return {
    cursor: cursorOf(row),
    topic: row.topic,
    key: row.partition_key,
    eventId: row.event_id,
    event,
    headers: row.headers,
  };
}

/** An outbox row as a broker carries it: the envelope's attributes and data as text, never parsed. */
export interface OutboxText {
  cursor: OutboxCursor;
  topic: string;
  key: string;
  eventId: string;
  headers: Record<string, string>;
  /** The attributes asked for, in the order asked; null where the envelope has none (or a JSON null). */
  attributes: (string | null)[];
  /** The envelope's `data` as JSON text; `null` when it has none (or the envelope is not an object). */
  data: string;
}

/**
 * What `readOutboxSelecting` would read of every topic, for the relay: the envelope stays in
 * PostgreSQL, which hands over `attributes` (top-level fields, as text) and the data (as JSON text), so
 * the relay neither parses nor serialises an event. jsonb's text has a space after each `:` and `,`;
 * it is the same JSON. On the Kafka path that was (with the garbage it made) about a tenth of the bus
 * thread's work (docs/BENCHMARKS.md, stop 18).
 */
export async function readOutboxText(
  db: Queryable,
  cursor: OutboxCursor,
  limit: number,
  attributes: readonly string[],
): Promise<OutboxText[]> {
  type Row = RowPlace & { data: string } & Record<`a${number}`, string | null>;
  const rows = await readAfter<Row>(
    db,
    null,
    cursor,
    limit,
    (params) => {
      const extracted = attributes.map((attribute, index) => {
        params.push(attribute);
        return `envelope->>$${params.length}::text AS a${index}`;
      });
      return [`COALESCE((envelope->'data')::text, 'null') AS data`, ...extracted].join(', ');
    },
    `bus.relay-read-${attributes.length}`,
  );
  return rows.map((row) => ({
    cursor: cursorOf(row),
    topic: row.topic,
    key: row.partition_key,
    eventId: row.event_id,
    headers: row.headers,
    attributes: attributes.map((_, index) => row[`a${index}`] ?? null),
    data: row.data,
  }));
}

/**
 * The outbox read for a reader that takes only some events (see OutboxSelection), in the caller's
 * transaction: up to `limit` rows are read and the selected events among them returned; `end` is the
 * last row read (undefined when there was none), where the next read starts, and `read` how many rows
 * that was.
 */
export async function readOutboxSelecting(
  db: Queryable,
  topics: string[],
  cursor: OutboxCursor,
  limit: number,
  selection: OutboxSelection,
): Promise<{ records: OutboxRecord[]; end: OutboxCursor | undefined; read: number }> {
  // Read in index order whatever the planner guesses. Without statistics (a new outbox, or a burst
  // since the last ANALYZE) it guessed a few hundred rows behind the cursor; asked for more than that
  // (the server reads 500 a pass), it took every row of the backlog with a bitmap scan and sorted them
  // for the first 500: 39 ms a pass with 50,000 behind, against 0.3 ms in index order, growing with the
  // backlog (docs/BENCHMARKS.md, stop 19). SET LOCAL, so it needs the caller's transaction; RESET, so
  // what the caller runs next in it is planned as usual.
  await db.query('SET LOCAL enable_bitmapscan = off');
  const rows = await readRows(db, topics, cursor, limit, selection);
  await db.query('RESET enable_bitmapscan');
  const last = rows.at(-1);
  return {
    records: rows.flatMap((row) => (row.envelope === null ? [] : [recordOf(row, row.envelope)])),
    end: last ? cursorOf(last) : undefined,
    read: rows.length,
  };
}

/**
 * The newest committed event of `topics`; `OUTBOX_START` when there is none. Unlike the reads above, this
 * does not wait for older transactions: it names what a reader must reach, not what it may read yet.
 */
export async function outboxHead(db: Queryable, topics: string[]): Promise<OutboxCursor> {
  const result = await db.query<{ txid_text: string; position_text: string }>(
    `SELECT txid::text AS txid_text, position::text AS position_text
       FROM bus.outbox
      WHERE topic = ANY($1)
      ORDER BY txid DESC, position DESC
      LIMIT 1`,
    [topics],
  );
  const row = result.rows[0];
  return row ? { txid: BigInt(row.txid_text), position: BigInt(row.position_text) } : OUTBOX_START;
}

/**
 * How many committed events of `topics` (every topic when null) lie after `cursor`, counting no further
 * than `cap`: an index range scan of (topic, txid, position) that stops at the cap, so a deep backlog
 * costs no more than a shallow one. Events of transactions still open are not counted yet.
 */
export async function countOutboxAfter(
  db: Queryable,
  topics: string[] | null,
  cursor: OutboxCursor,
  cap: number,
): Promise<number> {
  const result = await db.query<{ waiting: number }>(
    `SELECT count(*)::int AS waiting FROM (
       SELECT 1 FROM bus.outbox
        WHERE ${topicFilter(topics)}
          AND (txid, position) > ($2::text::xid8, $3::bigint)
        LIMIT $4) AS behind`,
    [topics?.length === 1 ? topics[0] : topics, cursor.txid.toString(), cursor.position.toString(), cap],
  );
  return result.rows[0]?.waiting ?? 0;
}

/** Where a cursor row stands, without locking it; undefined when there is no such row. */
export async function peekCursor(db: Queryable, row: CursorRow): Promise<OutboxCursor | undefined> {
  const found = await db.query<{ last_txid: string; last_position: string }>(
    `SELECT last_txid::text AS last_txid, last_position::text AS last_position
       FROM ${row.table} WHERE ${row.keyColumn} = $1`,
    [row.key],
  );
  const offset = found.rows[0];
  return offset ? { txid: BigInt(offset.last_txid), position: BigInt(offset.last_position) } : undefined;
}

/** A row that keeps a reader's place in the outbox: a consumer group's offset, or the relay's. */
export interface CursorRow {
  /** Schema-qualified table with `last_txid xid8` and `last_position bigint` columns. */
  table: 'bus.relay_offsets' | 'bus_postgres.consumer_offsets';
  keyColumn: 'relay' | 'consumer_group';
  key: string;
}

/**
 * Claims the cursor for this transaction and returns where it stands; null when another process holds
 * it (or there is no such row), so one process at a time reads and moves it.
 *
 * The claim is a transaction-level advisory lock, not `FOR UPDATE` on the row: a row lock gives the
 * transaction an xid at once, and readers of the outbox see nothing committed after the oldest xid still
 * open. A claim that took one held every reader's view back for the whole pass (a batch of SMTP sends,
 * say), and an empty pass cost a WAL record. Now the xid comes with the pass's first write, near its end.
 */
export async function claimCursor(tx: Queryable, row: CursorRow): Promise<OutboxCursor | null> {
  const claimed = await tx.query<{ locked: boolean; last_txid: string | null; last_position: string | null }>(
    `SELECT pg_try_advisory_xact_lock(hashtextextended($2, 0)) AS locked,
            o.last_txid::text AS last_txid, o.last_position::text AS last_position
       FROM (SELECT 1) AS one LEFT JOIN ${row.table} o ON o.${row.keyColumn} = $1`,
    [row.key, `${row.table}:${row.key}`],
  );
  const offset = claimed.rows[0];
  if (!offset?.locked || offset.last_txid === null || offset.last_position === null) return null;
  return { txid: BigInt(offset.last_txid), position: BigInt(offset.last_position) };
}

export async function saveCursor(tx: Queryable, row: CursorRow, cursor: OutboxCursor): Promise<void> {
  await tx.query(
    `UPDATE ${row.table} SET last_txid = $2::text::xid8, last_position = $3, updated_at = now() WHERE ${row.keyColumn} = $1`,
    [row.key, cursor.txid.toString(), cursor.position.toString()],
  );
}

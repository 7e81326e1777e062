import {
  type Bus,
  cursorAfter,
  DEFAULT_RETRY_POLICY,
  deliverOnce,
  type EventHandler,
  OUTBOX_CHANNEL,
  type OutboxCursor,
  outboxHead,
  type RetryPolicy,
  readOutbox,
  retryDelayMs,
} from '@switchyard/bus';
import type { Logger, Pool, PoolClient } from '@switchyard/kernel';

export interface PostgresBusOptions {
  pool: Pool;
  log: Logger;
  /** How often an idle subscription looks for events that arrived without a notification. */
  pollIntervalMs: number;
  /** Events handled per transaction. */
  batchSize: number;
  /** Called after every pass over the outbox with the number of events handled (0 when there was nothing). */
  onPass?: (group: string, handled: number) => void;
}

/** Migrations of the `bus_postgres` schema (consumer offsets). */
export const postgresBusMigrations = {
  schema: 'bus_postgres',
  directory: new URL('../migrations/', import.meta.url),
};

interface Subscription {
  group: string;
  topics: string[];
  handler: EventHandler;
  policy: RetryPolicy;
  log: Logger;
  /** Last position committed by this process, for `drain`. */
  committed: OutboxCursor | undefined;
  waiters: { target: OutboxCursor; resolve: () => void }[];
  wake: () => void;
  woken: boolean;
  loop?: Promise<void>;
}

/**
 * The embedded bus: the outbox table is the log. Each consumer group keeps its offset in
 * `bus_postgres.consumer_offsets`; LISTEN/NOTIFY wakes subscriptions at once, polling catches the rest.
 */
export function createPostgresBus(options: PostgresBusOptions): Bus {
  const { pool, log } = options;
  const subscriptions = new Map<string, Subscription>();
  let running = false;
  let listener: PoolClient | undefined;
  let listenerRetry: NodeJS.Timeout | undefined;

  function idleFor(subscription: Subscription, ms: number): Promise<void> {
    if (subscription.woken || !running) {
      subscription.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        subscription.wake = () => {
          subscription.woken = true;
        };
        subscription.woken = false;
        resolve();
      }
      subscription.wake = done;
    });
  }

  function wakeAll(topic?: string) {
    for (const subscription of subscriptions.values()) {
      if (topic === undefined || subscription.topics.includes(topic)) subscription.wake();
    }
  }

  async function listen(): Promise<void> {
    let client: PoolClient | undefined;
    try {
      client = await pool.connect();
      const connection = client;
      connection.on('notification', (message) => wakeAll(message.payload));
      connection.on('error', (error) => {
        // Only the current listener is ours to replace; after stop() the connection is already gone.
        if (listener !== connection) return;
        log.warn({ err: error }, 'outbox listener lost its connection; polling until it is back');
        listener = undefined;
        connection.release(true);
        if (running) listenerRetry = setTimeout(() => void listen(), options.pollIntervalMs);
      });
      await connection.query(`LISTEN ${OUTBOX_CHANNEL}`);
      if (!running) {
        connection.release(true);
        return;
      }
      listener = connection;
      // Anything committed while the listener was down is picked up now rather than at the next poll.
      wakeAll();
    } catch (error) {
      client?.release(true);
      log.warn({ err: error }, 'outbox listener could not connect; polling until it can');
      if (running) listenerRetry = setTimeout(() => void listen(), options.pollIntervalMs);
    }
  }

  /** Handles up to `limit` events in one transaction; returns how many it saw, or null if another process holds the group. */
  async function handleBatch(subscription: Subscription, limit: number): Promise<number | null> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const locked = await client.query<{ last_txid: string; last_position: string }>(
        `SELECT last_txid::text AS last_txid, last_position::text AS last_position
           FROM bus_postgres.consumer_offsets WHERE consumer_group = $1 FOR UPDATE SKIP LOCKED`,
        [subscription.group],
      );
      const offset = locked.rows[0];
      if (!offset) {
        await client.query('ROLLBACK');
        return null;
      }
      const cursor = { txid: BigInt(offset.last_txid), position: BigInt(offset.last_position) };
      const records = await readOutbox(client, subscription.topics, cursor, limit);
      const last = records.at(-1);
      if (!last) {
        await client.query('ROLLBACK');
        markCommitted(subscription, cursor);
        return 0;
      }
      for (const record of records) {
        await deliverOnce(client, subscription.group, record.event, subscription.handler, subscription.log);
      }
      await client.query(
        `UPDATE bus_postgres.consumer_offsets
            SET last_txid = $2::text::xid8, last_position = $3, updated_at = now()
          WHERE consumer_group = $1`,
        [subscription.group, last.cursor.txid.toString(), last.cursor.position.toString()],
      );
      await client.query('COMMIT');
      markCommitted(subscription, last.cursor);
      return records.length;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  function markCommitted(subscription: Subscription, cursor: OutboxCursor) {
    subscription.committed = cursor;
    subscription.waiters = subscription.waiters.filter((waiter) => {
      if (cursorAfter(waiter.target, cursor)) return true;
      waiter.resolve();
      return false;
    });
  }

  async function run(subscription: Subscription): Promise<void> {
    let failures = 0;
    while (running) {
      // After a failure, events go one per transaction so the ones before the bad one still commit.
      const limit = failures > 0 ? 1 : options.batchSize;
      try {
        const handled = await handleBatch(subscription, limit);
        if (handled !== null) options.onPass?.(subscription.group, handled);
        if (handled !== null && handled > 0) {
          failures = 0;
          continue;
        }
        if (handled === 0) failures = 0;
        await idleFor(subscription, options.pollIntervalMs);
      } catch (error) {
        failures += 1;
        const delayMs = retryDelayMs(subscription.policy, failures);
        subscription.log.error(
          { err: error, attempt: failures, retry_in_ms: delayMs },
          'event handling failed',
        );
        await idleFor(subscription, delayMs);
      }
    }
  }

  return {
    subscribe(group, topics, handler, policy) {
      if (running) throw new Error(`subscribe(${group}) after start`);
      if (subscriptions.has(group)) throw new Error(`consumer group ${group} is already subscribed`);
      subscriptions.set(group, {
        group,
        topics,
        handler,
        policy: { ...DEFAULT_RETRY_POLICY, ...policy },
        log: log.child({ consumer_group: group }),
        committed: undefined,
        waiters: [],
        wake: () => {},
        woken: false,
      });
    },

    async start() {
      running = true;
      for (const subscription of subscriptions.values()) {
        subscription.wake = () => {
          subscription.woken = true;
        };
        await pool.query(
          'INSERT INTO bus_postgres.consumer_offsets (consumer_group) VALUES ($1) ON CONFLICT DO NOTHING',
          [subscription.group],
        );
      }
      if (subscriptions.size > 0) await listen();
      for (const subscription of subscriptions.values()) subscription.loop = run(subscription);
    },

    async stop() {
      running = false;
      clearTimeout(listenerRetry);
      wakeAll();
      await Promise.all([...subscriptions.values()].map((subscription) => subscription.loop));
      if (listener) {
        const client = listener;
        listener = undefined;
        client.removeAllListeners('notification');
        // A connection that has LISTENed is not fit to go back to the pool; close it instead.
        client.release(true);
      }
    },

    async drain(group) {
      const subscription = subscriptions.get(group);
      if (!subscription || !running)
        throw new Error(`consumer group ${group} is not running in this process`);
      const target = await outboxHead(pool, subscription.topics);
      if (subscription.committed && !cursorAfter(target, subscription.committed)) return;
      await new Promise<void>((resolve) => {
        subscription.waiters.push({ target, resolve });
        subscription.wake();
      });
    },
  };
}

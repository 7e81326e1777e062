import { setTimeout as sleep } from 'node:timers/promises';
import {
  addSubscription,
  BatchFailure,
  type Bus,
  type ConsumerRunner,
  type CursorRow,
  claimCursor,
  countOutboxAfter,
  createConsumerRunner,
  cursorAfter,
  type GroupLag,
  LAG_COUNT_CAP,
  type OutboxCursor,
  type OutboxSelection,
  onOutboxCommit,
  outboxHead,
  peekCursor,
  readOutboxSelecting,
  type Subscription,
  saveCursor,
} from '@switchyard/bus';
import { createWaker, listenForOutboxCommits, type OutboxListener } from '@switchyard/bus/outbox-listener';
import {
  type Clock,
  collectCommitHooks,
  type IdGenerator,
  type Logger,
  type Pool,
  type Queryable,
} from '@switchyard/kernel';

export interface PostgresBusOptions {
  pool: Pool;
  log: Logger;
  clock: Clock;
  ids: IdGenerator;
  /** How often an idle subscription looks for events that arrived without a notification. */
  pollIntervalMs: number;
  /** Events read per pass; when all succeed first time they commit in one transaction. */
  batchSize: number;
  /** Called after every pass over the outbox with the number of events dealt with (0 when there was nothing). */
  onPass?: (group: string, handled: number) => void;
}

/** The least time between a pass that found nothing and the next pass of the same group. */
const EMPTY_PASS_SPACING_MS = 10;
/**
 * The least time from the start of a pass that read less than a batch to the start of the group's next
 * pass. Under steady load each commit wakes every group of its topic, and a group that went again at once
 * made a pass, with its transaction and offset write, for every commit or two; waiting lets a pass take
 * what many commits brought. A full pass is followed at once: a backlog is not held back.
 */
const PARTIAL_PASS_PERIOD_MS = 50;
/** At most this often a pass that only passed over events writes the group's offset. */
const OFFSET_SAVE_INTERVAL_MS = 1_000;

const offsetRow = (group: string): CursorRow => ({
  table: 'bus_postgres.consumer_offsets',
  keyColumn: 'consumer_group',
  key: group,
});

/** Migrations of the `bus_postgres` schema (consumer offsets). */
export const postgresBusMigrations = {
  schema: 'bus_postgres',
  directory: new URL('../migrations/', import.meta.url),
};

interface Running {
  subscription: Subscription;
  /**
   * The events the subscription takes (its catalog's types, its `accepts`): the others are passed over
   * in the read itself. Such a row is then not dead-lettered by this group even when it is malformed in
   * some other way: the groups that take it do that. Empty with a decoder, which alone knows the format.
   */
  selection: OutboxSelection;
  /**
   * Where this process has read to when that is past the stored offset: passes that found only events
   * to pass over do not write the offset every time (see OFFSET_SAVE_INTERVAL_MS).
   */
  readTo: OutboxCursor | undefined;
  /** When this group's offset was last written (performance.now()). */
  savedAtMs: number;
  runner: ConsumerRunner;
  waker: ReturnType<typeof createWaker>;
  /** Last position committed by this process, for `drain`. */
  committed: OutboxCursor | undefined;
  waiters: { target: OutboxCursor; resolve: () => void }[];
  loop?: Promise<void>;
}

/**
 * The embedded bus: the outbox table is the log. Each consumer group keeps its offset in
 * `bus_postgres.consumer_offsets`; LISTEN/NOTIFY wakes subscriptions at once, polling catches the rest.
 * One process at a time works for a group (a pass claims it, see `claimCursor`), in log order.
 */
export function createPostgresBus(options: PostgresBusOptions): Bus {
  const { pool, log } = options;
  const subscriptions: Subscription[] = [];
  const running = new Map<string, Running>();
  let active = false;
  let listener: OutboxListener | undefined;
  let stopHearingCommits = () => {};

  function wake(topic?: string) {
    for (const state of running.values()) {
      if (topic === undefined || state.subscription.topics.includes(topic)) state.waker.wake();
    }
  }

  function markCommitted(state: Running, cursor: OutboxCursor) {
    state.committed = cursor;
    state.waiters = state.waiters.filter((waiter) => {
      if (cursorAfter(waiter.target, cursor)) return true;
      waiter.resolve();
      return false;
    });
  }

  const offsetDue = (state: Running) => performance.now() - state.savedAtMs >= OFFSET_SAVE_INTERVAL_MS;

  /** Moves the group's stored offset to `cursor` and commits the pass. */
  async function commitOffset(client: Queryable, state: Running, cursor: OutboxCursor): Promise<void> {
    await saveCursor(client, offsetRow(state.subscription.group), cursor);
    await client.query('COMMIT');
    state.readTo = undefined;
    state.savedAtMs = performance.now();
  }

  /** One pass: returns how many events it dealt with, or null if another process holds the group. */
  async function pass(state: Running): Promise<number | null> {
    const { group, topics } = state.subscription;
    const client = await pool.connect();
    let commitHooks: ReturnType<typeof collectCommitHooks> | undefined;
    try {
      await client.query('BEGIN');
      const stored = await claimCursor(client, offsetRow(group));
      if (!stored) {
        await client.query('ROLLBACK');
        return null;
      }
      // Only passed-over events lie between the stored offset and where this process read to, so
      // going on from there is safe; another process that moved the offset further wins.
      const cursor = state.readTo && cursorAfter(state.readTo, stored) ? state.readTo : stored;
      const { records, end, read } = await readOutboxSelecting(
        client,
        topics,
        cursor,
        options.batchSize,
        state.selection,
      );
      if (!end) {
        // Idle now: what was read past without a write is written, so lag and other readers of the
        // offset see the group at the end.
        if (state.readTo && offsetDue(state)) await commitOffset(client, state, state.readTo);
        else await client.query('ROLLBACK');
        markCommitted(state, cursor);
        return 0;
      }
      const events = records.map((record) => ({
        topic: record.topic,
        value: record.event,
        key: record.event.partitionkey,
      }));
      if (events.length === 0) {
        // Only events the group passes over: reading them again after a crash would cost a read and
        // nothing else, so the offset is written now and then, not with a commit per such pass.
        if (offsetDue(state)) {
          await commitOffset(client, state, end);
        } else {
          await client.query('ROLLBACK');
          state.readTo = end;
        }
        markCommitted(state, end);
        return read;
      }
      await client.query('SAVEPOINT batch');
      // What the handlers defer with afterCommit (live pushes, cache invalidations) waits for this COMMIT.
      commitHooks = collectCommitHooks(client);
      try {
        await state.runner.handleBatchInTransaction(client, events);
      } catch (error) {
        commitHooks.discard();
        if (!(error instanceof BatchFailure)) throw error;
        // Something in the batch needs a retry or a dead letter: undo the batch and let the runner take
        // the events one by one, each in its own transaction (keys side by side, each key in order),
        // while this one keeps the group locked. A failed event's try in the batch was its first attempt.
        await client.query('ROLLBACK TO SAVEPOINT batch');
        await state.runner.handleEach(events, error, options.clock());
      }
      await commitOffset(client, state, end);
      commitHooks?.run();
      markCommitted(state, end);
      return read;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      commitHooks?.discard();
      client.release();
    }
  }

  async function run(state: Running): Promise<void> {
    let failures = 0;
    while (active) {
      try {
        const startedMs = performance.now();
        const dealt = await pass(state);
        if (dealt !== null) options.onPass?.(state.subscription.group, dealt);
        failures = 0;
        if (dealt !== null && dealt > 0) {
          const restMs = PARTIAL_PASS_PERIOD_MS - (performance.now() - startedMs);
          if (dealt < options.batchSize && restMs > 0) await sleep(restMs);
          continue;
        }
        // Nothing to read yet (often: an older transaction still open hides what was committed since).
        // Every commit wakes every group of its topic, so without a pause a busy system would spin
        // through empty passes; after one, the next waits a moment and takes what came meanwhile.
        await sleep(EMPTY_PASS_SPACING_MS);
        await state.waker.wait(options.pollIntervalMs);
      } catch (error) {
        if (!active) break;
        failures += 1;
        const delayMs = Math.min(30_000, 500 * 2 ** (failures - 1));
        log.error(
          { err: error, consumer_group: state.subscription.group, retry_in_ms: delayMs },
          'consumer pass failed',
        );
        await state.waker.wait(delayMs);
      }
    }
  }

  return {
    kind: 'postgres',

    subscribe(group, topics, handler, subscribeOptions = {}) {
      addSubscription(subscriptions, active, group, topics, handler, subscribeOptions);
    },

    async start() {
      active = true;
      for (const subscription of subscriptions) {
        await pool.query(
          'INSERT INTO bus_postgres.consumer_offsets (consumer_group) VALUES ($1) ON CONFLICT DO NOTHING',
          [subscription.group],
        );
        const { catalog, accepts, decode } = subscription.options;
        running.set(subscription.group, {
          subscription,
          selection: decode ? {} : { types: catalog ? Object.keys(catalog) : undefined, accepts },
          readTo: undefined,
          savedAtMs: 0,
          // A pass claims its group, and the offset moves in the pass's transaction.
          runner: createConsumerRunner(subscription, {
            pool,
            log,
            clock: options.clock,
            ids: options.ids,
            exclusiveBatches: true,
          }),
          waker: createWaker(),
          committed: undefined,
          waiters: [],
        });
      }
      // Commits of this process wake its subscriptions at once; LISTEN hears those of other processes.
      stopHearingCommits = onOutboxCommit({ wake, pool });
      if (running.size > 0) listener = listenForOutboxCommits(pool, log, wake, options.pollIntervalMs);
      for (const state of running.values()) state.loop = run(state);
    },

    async stop() {
      active = false;
      stopHearingCommits();
      for (const state of running.values()) {
        state.runner.stop();
        state.waker.wake();
      }
      await Promise.all([...running.values()].map((state) => state.loop));
      await listener?.stop();
      listener = undefined;
      running.clear();
    },

    async drain(group) {
      const state = running.get(group);
      if (!state || !active) throw new Error(`consumer group ${group} is not running in this process`);
      const target = await outboxHead(pool, state.subscription.topics);
      if (state.committed && !cursorAfter(target, state.committed)) return;
      await new Promise<void>((resolve) => {
        state.waiters.push({ target, resolve });
        state.waker.wake();
      });
    },

    /** Outbox rows of each group's topics past its committed offset, read without taking its lock. */
    async lag() {
      return Promise.all(
        subscriptions.map(async ({ group, topics }): Promise<GroupLag> => {
          const cursor = await peekCursor(pool, offsetRow(group));
          if (!cursor) return { group, topics, waiting: null, capped: false, reason: 'not started' };
          const waiting = await countOutboxAfter(pool, topics, cursor, LAG_COUNT_CAP);
          return { group, topics, waiting, capped: waiting >= LAG_COUNT_CAP };
        }),
      );
    },
  };
}

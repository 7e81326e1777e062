/**
 * One member of a Kafka consumer group (classic protocol, eager round-robin assignment), built on the
 * low-level parts of @platformatic/kafka's Consumer: group membership and heartbeats (`joinGroup`), `fetch`,
 * `commit`, `listCommittedOffsets`, `listOffsets`. Its MessagesStream is not used: the stream fetches ahead
 * and rewinds on every rejoin by itself, and neither lets a consumer hold one partition (a failing message)
 * while it goes on with the others, nor finish its handlers before the group takes partitions away.
 *
 * Sessions: each successful join (`consumer:group:join`) opens a session with the partitions assigned to
 * this member for that generation. The session's fetch offsets start at the group's committed offsets (the
 * oldest offset the broker has when the group never committed one).
 *
 * Order and concurrency: fetched records go, in offset order, to a keyed queue keyed by topic-partition, so
 * up to `concurrency` handlers run at once, one per partition at most, each partition strictly in order. At
 * most `maxBufferedPerPartition` records of a partition wait in memory; the partition is not fetched while
 * it is full.
 *
 * Acknowledgement: a partition's "handled" offset moves past a record only when its handler resolved
 * (records before it resolved earlier: one partition is handled in order). Handled offsets are committed as
 * they move, one commit request at a time, carrying whatever moved meanwhile.
 *
 * Failing handler: the same record is given to the handler again after `retryDelayMs` (doubling up to
 * 30 s), and nothing after it in its partition is handled or committed meanwhile; other partitions go on.
 *
 * Rebalance: the library calls `protocolsMetadata` before every JoinGroup; that hook is this member's
 * "partitions revoked" moment (eager protocol: a member gives everything up when it rejoins). It ends the
 * session: records not yet started are dropped (they were not committed, so the next owner gets them), retry
 * waits end, handlers already running are awaited, and their offsets are committed under the old
 * generation, which the coordinator still accepts while it waits for members to rejoin. Only then does the
 * JoinGroup go out, so the next owner of a partition starts exactly after what was handled here.
 *
 * Failures: fetch, metadata and commit errors are retried (commits keep their offsets until they land).
 * When the library gives up rejoining (broker down longer than its retries), it emits `error`; the member
 * then rejoins by itself with backoff, as it does when its own join fails.
 */
import {
  Consumer,
  FetchIsolationLevels,
  findErrorBy,
  type GroupAssignment,
  IS_CONTROL,
  ListOffsetTimestamps,
  type RecordsBatch,
} from '@platformatic/kafka';
import {
  createKeyedQueue,
  type KeyedQueue,
  type TransportBatchHandler,
  type TransportHandler,
  type TransportMessage,
} from '@switchyard/bus';
import type { Logger } from '@switchyard/kernel';

export interface GroupMemberOptions {
  brokers: string[];
  clientId: string;
  group: string;
  topics: string[];
  handler: TransportHandler;
  /** When given, each fetch's records of a partition go to it as one run instead of one by one. */
  batchHandler?: TransportBatchHandler | undefined;
  concurrency: number;
  log: Logger;
  retryDelayMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  maxBufferedPerPartition: number;
}

type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;

interface PartitionState {
  topic: string;
  partition: number;
  key: string;
  /** Next offset to fetch. */
  next: bigint;
  /** Offset after the last record whose handler resolved (what may be committed). */
  handled: bigint;
  /** Last offset committed for this partition by this session. */
  committed: bigint;
  leaderEpoch: number;
  /** Records fetched and not yet finished. */
  buffered: number;
}

interface Session {
  generationId: number;
  assignments: GroupAssignment[];
  partitions: Map<string, PartitionState>;
  queue: KeyedQueue;
  /** Aborted when the session ends: queued records are dropped and retry waits end. */
  ended: AbortController;
  initialised: boolean;
}

interface CommitEntry {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
}

const MAX_RETRY_DELAY_MS = 30_000;
/** Kafka's error code OFFSET_OUT_OF_RANGE. */
const OFFSET_OUT_OF_RANGE = 1;
const FETCH_MAX_WAIT_MS = 500;
const FETCH_MAX_BYTES = 16 * 1024 * 1024;
const FETCH_PARTITION_MAX_BYTES = 1024 * 1024;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function addTo(record: Record<string, number[]>, key: string, value: number): void {
  const values = record[key];
  if (values) values.push(value);
  else record[key] = [value];
}

function toTransportMessage(topic: string, record: RecordsBatch['records'][number]): TransportMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of record.headers) {
    if (name) headers[name.toString()] = value ? value.toString() : '';
  }
  return {
    topic,
    key: record.key ? record.key.toString() : '',
    value: record.value ?? Buffer.alloc(0),
    headers,
  };
}

export class GroupMember {
  readonly #options: GroupMemberOptions;
  readonly #log: Logger;
  readonly #consumer: Consumer;
  #session: Session | undefined;
  /** The end of the session being revoked (set while the hook runs). */
  #revoking: Promise<void> | undefined;
  #stopping = false;
  /** Aborted by stop(): ends every wait of the member. */
  readonly #stopSignal = new AbortController();
  #stopped: Promise<void> | undefined;
  /** Wakes the fetch loop: a session began or ended, a partition has room again, or the member stops. */
  #wake: () => void = () => {};
  #fetchLoop: Promise<void> | undefined;
  #commitInFlight: Promise<void> | undefined;
  /** Offsets arrays handed to `consumer.commit` and not settled yet (see #endSession). */
  readonly #pendingCommits = new Set<CommitEntry[]>();
  #rejoinTimer: NodeJS.Timeout | undefined;
  #rejoinAttempt = 0;
  #joining = false;

  constructor(options: GroupMemberOptions) {
    this.#options = options;
    this.#log = options.log.child({ group: options.group });
    this.#consumer = new Consumer({
      clientId: options.clientId,
      bootstrapBrokers: options.brokers,
      groupId: options.group,
      autocommit: false,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      rebalanceTimeout: options.rebalanceTimeoutMs,
      // Only times the (unused) 'consumer:heartbeat:stalled' event. The library arms this timer again after a
      // rejoin fails, even when that happens while the consumer closes, and the timer then keeps the process
      // alive for its whole length (by default rebalanceTimeout, 60 s): keep it short.
      heartbeatStallTimeout: 2 * options.heartbeatIntervalMs,
      maxWaitTime: FETCH_MAX_WAIT_MS,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      retryDelay: 500,
      // Called before every JoinGroup: the moment to give the current partitions back cleanly.
      protocolsMetadata: () => this.#beforeJoin(),
    });
    this.#consumer.on('consumer:group:join', (payload) => {
      this.#onJoin(payload.generationId ?? -1, payload.assignments ?? []);
    });
    // Emitted when a heartbeat-triggered rejoin failed: the library will not try again by itself.
    this.#consumer.on('error', (error: Error) => {
      this.#log.warn({ err: error }, 'kafka consumer lost its group membership; rejoining');
      this.#scheduleRejoin();
    });
    this.#consumer.on('consumer:heartbeat:error', ({ error }) => {
      this.#log.debug({ err: error }, 'kafka heartbeat failed');
    });
  }

  /** Joins the group and starts fetching. Rejects when the first join fails. */
  async start(): Promise<void> {
    this.#consumer.topics.trackAll(...this.#options.topics);
    this.#joining = true;
    try {
      await this.#consumer.joinGroup({});
    } catch (error) {
      await this.#consumer.close(true).catch(() => {});
      throw error;
    } finally {
      this.#joining = false;
    }
    this.#fetchLoop = this.#runFetchLoop();
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    this.#stopSignal.abort();
    clearTimeout(this.#rejoinTimer);
    await this.#revoking;
    await this.#endSession();
    this.#wake();
    await this.#fetchLoop;
    try {
      // Leaves the group (LeaveGroup), so the others take the partitions over at once.
      await this.#consumer.close(true);
    } catch (error) {
      this.#log.warn({ err: error }, 'leaving the kafka consumer group failed');
    }
  }

  // ---- group membership -------------------------------------------------------------------------------

  async #beforeJoin(): Promise<Buffer> {
    if (this.#stopping) throw new Error('the consumer is stopping');
    if (this.#revoking) {
      // A commit made while revoking hit a rebalance error and the library wants to rejoin from inside it:
      // refuse (that commit then fails, which is fine); the JoinGroup already on its way will do.
      throw new Error('already rejoining');
    }
    this.#revoking = this.#endSession();
    try {
      await this.#revoking;
    } finally {
      this.#revoking = undefined;
    }
    return Buffer.alloc(0);
  }

  #onJoin(generationId: number, assignments: GroupAssignment[]): void {
    this.#rejoinAttempt = 0;
    if (this.#stopping) return;
    const current = this.#session;
    if (current && current.generationId === generationId) return;
    if (current) {
      // Not expected (the hook ends every session before a join), but never let two sessions overlap.
      this.#log.warn({ generationId }, 'kafka group joined again before the previous session ended');
      void this.#endSession();
    }
    this.#session = {
      generationId,
      assignments,
      partitions: new Map(),
      queue: createKeyedQueue(this.#options.concurrency),
      ended: new AbortController(),
      initialised: false,
    };
    this.#log.debug({ generationId, assignments }, 'kafka group joined');
    this.#wake();
  }

  #scheduleRejoin(): void {
    if (this.#stopping || this.#rejoinTimer || this.#joining) return;
    const delay = Math.min(1000 * 2 ** this.#rejoinAttempt, 10_000);
    this.#rejoinAttempt += 1;
    this.#rejoinTimer = setTimeout(() => {
      this.#rejoinTimer = undefined;
      if (this.#stopping || this.#consumer.isActive()) return;
      this.#joining = true;
      this.#consumer.joinGroup({}).then(
        () => {
          this.#joining = false;
        },
        (error: unknown) => {
          this.#joining = false;
          this.#log.warn({ err: error }, 'rejoining the kafka consumer group failed; trying again');
          this.#scheduleRejoin();
        },
      );
    }, delay);
  }

  /**
   * Ends the current session: drops records not started, ends retry waits, awaits running handlers and
   * commits what they finished (under the session's generation).
   */
  async #endSession(): Promise<void> {
    const session = this.#session;
    if (!session) return;
    this.#session = undefined;
    session.ended.abort();
    this.#wake();
    await session.queue.idle();
    const offsets = this.#toCommit(session);
    // A commit still on its way may be retried by the library after a rejoin, under the new generation, for
    // partitions another member may own by then. It reads its offsets array when it (re)sends, so emptying
    // the arrays makes such a retry a no-op; what they carried is covered by the commit below.
    for (const pending of this.#pendingCommits) pending.length = 0;
    if (offsets.length > 0 && this.#consumer.memberId === null) {
      // The coordinator dropped this member (the library clears the id on UNKNOWN_MEMBER_ID): a commit
      // would only be refused. The next owner gets these messages again.
      this.#log.warn(
        { generationId: session.generationId, partitions: offsets.length },
        'kafka group membership was lost; handled messages not committed will be delivered again',
      );
    } else if (offsets.length > 0) {
      try {
        await this.#commit(offsets);
        this.#markCommitted(session, offsets);
      } catch (error) {
        this.#log.warn(
          { err: error, generationId: session.generationId },
          'committing the offsets of revoked partitions failed; their messages will be delivered again',
        );
      }
    }
    this.#log.debug({ generationId: session.generationId, offsets: offsets.length }, 'kafka session ended');
  }

  // ---- fetching -----------------------------------------------------------------------------------------

  async #runFetchLoop(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      const session = this.#session;
      const woken = new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      if (!session) {
        await woken;
        continue;
      }
      try {
        if (!session.initialised) {
          await this.#initialise(session);
          continue;
        }
        const fetched = await this.#fetchOnce(session);
        failures = 0;
        if (!fetched) await woken;
      } catch (error) {
        if (this.#stopping || session !== this.#session) continue;
        failures += 1;
        const level = failures > 3 ? 'warn' : 'debug';
        this.#log[level]({ err: error, failures }, 'kafka fetch failed; retrying');
        await Promise.race([woken, pause(Math.min(250 * 2 ** failures, 5000), this.#stopSignal.signal)]);
      }
    }
  }

  /** Sets each assigned partition's fetch offset: the group's committed offset, or the oldest there is. */
  async #initialise(session: Session): Promise<void> {
    const assigned = session.assignments.filter((assignment) => assignment.partitions.length > 0);
    const committed =
      assigned.length > 0
        ? await this.#consumer.listCommittedOffsets({ topics: assigned })
        : new Map<string, bigint[]>();
    const missing: Record<string, number[]> = {};
    for (const { topic, partitions } of assigned) {
      for (const partition of partitions) {
        const offset = committed.get(topic)?.[partition];
        if (offset === undefined || offset < 0n) addTo(missing, topic, partition);
      }
    }
    const missingTopics = Object.keys(missing);
    const earliest =
      missingTopics.length > 0
        ? await this.#consumer.listOffsets({
            topics: missingTopics,
            partitions: missing,
            timestamp: ListOffsetTimestamps.EARLIEST,
          })
        : new Map<string, bigint[]>();
    if (session !== this.#session) return;
    for (const { topic, partitions } of assigned) {
      for (const partition of partitions) {
        const fromGroup = committed.get(topic)?.[partition];
        const start =
          fromGroup !== undefined && fromGroup >= 0n ? fromGroup : (earliest.get(topic)?.[partition] ?? 0n);
        const key = `${topic}:${partition}`;
        session.partitions.set(key, {
          topic,
          partition,
          key,
          next: start,
          handled: start,
          committed: start,
          leaderEpoch: -1,
          buffered: 0,
        });
      }
    }
    session.initialised = true;
  }

  /** One fetch round over the partitions with room. Resolves false when there was nothing to fetch. */
  async #fetchOnce(session: Session): Promise<boolean> {
    const ready = [...session.partitions.values()].filter(
      (state) => state.buffered < this.#options.maxBufferedPerPartition,
    );
    if (ready.length === 0) return false;
    const metadata = await this.#consumer.metadata({ topics: this.#options.topics });
    const byNode = new Map<number, Map<string, PartitionState[]>>();
    for (const state of ready) {
      const topic = metadata.topics.get(state.topic);
      const leader = topic?.partitions[state.partition]?.leader;
      if (!topic || leader === undefined || leader < 0) {
        this.#consumer.clearMetadata();
        throw new Error(`no leader known for ${state.key}`);
      }
      let topics = byNode.get(leader);
      if (!topics) {
        topics = new Map();
        byNode.set(leader, topics);
      }
      const states = topics.get(topic.id);
      if (states) states.push(state);
      else topics.set(topic.id, [state]);
    }
    await Promise.all(
      [...byNode].map(async ([node, topics]) => {
        const request = [...topics].map(([topicId, states]) => ({
          topicId,
          partitions: states.map((state) => ({
            partition: state.partition,
            fetchOffset: state.next,
            partitionMaxBytes: FETCH_PARTITION_MAX_BYTES,
            currentLeaderEpoch: -1,
            lastFetchedEpoch: -1,
          })),
        }));
        const requested = new Map(
          [...topics].flatMap(([topicId, states]) =>
            states.map((state) => [`${topicId}:${state.partition}`, { state, next: state.next }] as const),
          ),
        );
        try {
          const response = await this.#consumer.fetch({
            node,
            topics: request,
            maxWaitTime: FETCH_MAX_WAIT_MS,
            maxBytes: FETCH_MAX_BYTES,
          });
          if (session !== this.#session) return;
          for (const topic of response.responses) {
            for (const partition of topic.partitions) {
              const entry = requested.get(`${topic.topicId}:${partition.partitionIndex}`);
              // Ignore what was not asked for, or moved on meanwhile (a fetch session may send more).
              if (!entry || entry.state.next !== entry.next) continue;
              this.#deliver(session, entry.state, partition.records ?? []);
            }
          }
        } catch (error) {
          if (session !== this.#session || !findErrorBy(error as Error, 'apiId', 'OFFSET_OUT_OF_RANGE'))
            throw error;
          // Only the partitions the broker answered OFFSET_OUT_OF_RANGE for; the others are fetched again.
          const response = (error as { response?: FetchResponse }).response;
          const outOfRange = (response?.responses ?? []).flatMap((topic) =>
            topic.partitions
              .filter((partition) => partition.errorCode === OFFSET_OUT_OF_RANGE)
              .flatMap(
                (partition) => requested.get(`${topic.topicId}:${partition.partitionIndex}`)?.state ?? [],
              ),
          );
          if (outOfRange.length === 0) throw error;
          await this.#resetOutOfRange(session, outOfRange);
        }
      }),
    );
    return true;
  }

  /** The offsets asked for are not in the log (any more): go on from the oldest one there is. */
  async #resetOutOfRange(session: Session, states: PartitionState[]): Promise<void> {
    const partitions: Record<string, number[]> = {};
    for (const state of states) addTo(partitions, state.topic, state.partition);
    const earliest = await this.#consumer.listOffsets({
      topics: Object.keys(partitions),
      partitions,
      timestamp: ListOffsetTimestamps.EARLIEST,
    });
    if (session !== this.#session) return;
    for (const state of states) {
      const oldest = earliest.get(state.topic)?.[state.partition];
      if (oldest === undefined || state.buffered > 0) continue;
      this.#log.warn(
        { partition: state.key, from: String(state.next), to: String(oldest) },
        'kafka offset out of range (retention, or the topic was recreated); going on from the oldest offset',
      );
      state.next = oldest;
      state.handled = oldest;
      state.committed = -1n;
      this.#requestCommit();
    }
  }

  #deliver(session: Session, state: PartitionState, batches: RecordsBatch[]): void {
    const run: { offset: bigint; leaderEpoch: number; message: TransportMessage }[] = [];
    for (const batch of batches) {
      const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
      if (last < state.next) continue;
      if (!(batch.attributes & IS_CONTROL)) {
        for (const record of batch.records) {
          const offset = batch.firstOffset + BigInt(record.offsetDelta);
          if (offset < state.next) continue;
          const message = toTransportMessage(state.topic, record);
          if (this.#options.batchHandler) {
            run.push({ offset, leaderEpoch: batch.partitionLeaderEpoch, message });
          } else {
            this.#schedule(session, state, offset, batch.partitionLeaderEpoch, message);
          }
        }
      }
      // Control records and compacted gaps are never handled, but are passed (and so committed) all the same.
      state.next = last + 1n;
      if (state.buffered === 0 && run.length === 0 && state.handled < state.next) {
        state.handled = state.next;
        this.#requestCommit();
      }
    }
    const lastOfRun = run.at(-1);
    if (lastOfRun) this.#scheduleRun(session, state, run, lastOfRun.leaderEpoch, state.next);
  }

  // ---- handling -----------------------------------------------------------------------------------------

  #schedule(
    session: Session,
    state: PartitionState,
    offset: bigint,
    leaderEpoch: number,
    message: TransportMessage,
  ) {
    state.buffered += 1;
    const nextAfter = offset + 1n;
    void session.queue
      .schedule(state.key, async () => {
        if (session.ended.signal.aborted) return;
        if (!(await this.#handle(session, state, offset, message))) return;
        state.handled = nextAfter;
        state.leaderEpoch = leaderEpoch;
        this.#requestCommit();
      })
      .catch((error: unknown) => {
        this.#log.error({ err: error, partition: state.key }, 'kafka delivery failed unexpectedly');
      })
      .finally(() => {
        state.buffered -= 1;
        // The fetch may have passed records that are never handled (transaction markers, compacted gaps)
        // after this one: once nothing of the partition is pending, they count as handled too.
        if (state.buffered === 0 && !session.ended.signal.aborted && state.handled >= nextAfter) {
          if (state.handled < state.next) {
            state.handled = state.next;
            this.#requestCommit();
          }
        }
        if (state.buffered === Math.floor(this.#options.maxBufferedPerPartition / 2)) this.#wake();
      });
  }

  /**
   * One fetch's records of a partition as one run: handed to the batch handler together, so the consumer
   * records them in one transaction; the partition moves past all of them (and past any control records
   * or gaps the fetch ended on, `passed`) when it resolves.
   */
  #scheduleRun(
    session: Session,
    state: PartitionState,
    run: { offset: bigint; message: TransportMessage }[],
    leaderEpoch: number,
    passed: bigint,
  ) {
    const batchHandler = this.#options.batchHandler;
    if (!batchHandler) return;
    state.buffered += run.length;
    const first = run[0]?.offset ?? passed;
    void session.queue
      .schedule(state.key, async () => {
        if (session.ended.signal.aborted) return;
        const messages = run.map((entry) => entry.message);
        if (!(await this.#retrying(session, state, first, () => batchHandler(messages)))) return;
        state.handled = passed;
        state.leaderEpoch = leaderEpoch;
        this.#requestCommit();
      })
      .catch((error: unknown) => {
        this.#log.error({ err: error, partition: state.key }, 'kafka delivery failed unexpectedly');
      })
      .finally(() => {
        const half = Math.floor(this.#options.maxBufferedPerPartition / 2);
        const before = state.buffered;
        state.buffered -= run.length;
        // As for single records: control records or gaps fetched after this run count as handled once
        // nothing of the partition is pending.
        if (state.buffered === 0 && !session.ended.signal.aborted && state.handled >= passed) {
          if (state.handled < state.next) {
            state.handled = state.next;
            this.#requestCommit();
          }
        }
        if (before > half && state.buffered <= half) this.#wake();
      });
  }

  /** Runs the handler until it resolves (true) or the session ends (false). */
  async #handle(
    session: Session,
    state: PartitionState,
    offset: bigint,
    message: TransportMessage,
  ): Promise<boolean> {
    return this.#retrying(session, state, offset, () => this.#options.handler(message));
  }

  /** Runs `work` until it resolves (true) or the session ends (false), waiting longer after each failure. */
  async #retrying(
    session: Session,
    state: PartitionState,
    offset: bigint,
    work: () => Promise<unknown>,
  ): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await work();
        return true;
      } catch (error) {
        const delay = Math.min(this.#options.retryDelayMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
        this.#log.warn(
          {
            err: error,
            topic: state.topic,
            partition: state.partition,
            offset: String(offset),
            attempt,
            delay,
          },
          `kafka handler failed (${errorMessage(error)}); delivering the message again`,
        );
        await pause(delay, session.ended.signal);
        if (session.ended.signal.aborted) return false;
      }
    }
  }

  // ---- committing ---------------------------------------------------------------------------------------

  #toCommit(session: Session): CommitEntry[] {
    const offsets: CommitEntry[] = [];
    for (const state of session.partitions.values()) {
      if (state.handled > state.committed) {
        offsets.push({
          topic: state.topic,
          partition: state.partition,
          offset: state.handled,
          leaderEpoch: state.leaderEpoch,
        });
      }
    }
    return offsets;
  }

  #markCommitted(session: Session, offsets: CommitEntry[]): void {
    for (const { topic, partition, offset } of offsets) {
      const state = session.partitions.get(`${topic}:${partition}`);
      if (state && state.committed < offset) state.committed = offset;
    }
  }

  async #commit(offsets: CommitEntry[]): Promise<void> {
    this.#pendingCommits.add(offsets);
    try {
      await this.#consumer.commit({ offsets });
    } finally {
      this.#pendingCommits.delete(offsets);
    }
  }

  /** Commits what the current session handled, one request at a time; failures keep the offsets for later. */
  #requestCommit(): void {
    if (this.#commitInFlight) return;
    const session = this.#session;
    if (!session || this.#revoking) return;
    const offsets = this.#toCommit(session);
    if (offsets.length === 0) return;
    this.#commitInFlight = this.#commit(offsets).then(
      () => {
        this.#markCommitted(session, offsets);
        this.#commitInFlight = undefined;
        this.#requestCommit();
      },
      async (error: unknown) => {
        if (session === this.#session) {
          this.#log.warn({ err: error }, 'committing kafka offsets failed; retrying');
          if (!this.#consumer.isActive()) this.#scheduleRejoin();
          await pause(1000, session.ended.signal);
        }
        this.#commitInFlight = undefined;
        this.#requestCommit();
      },
    );
  }
}

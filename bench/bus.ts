// Event bus end to end: events appended to the outbox in this process are carried by each adapter to a
// subscription in this process (outbox -> consumer for PostgreSQL; outbox -> relay -> broker -> consumer for
// Kafka and RabbitMQ), beside Kafka's own producer benchmark (ProducerPerformance) on the same broker as
// the ceiling. Both are measured on a warmed broker (`measureCeilings`, `warmUpKafkaPath`).
//
// By default the appends run on the bus's thread (relay and consumer), as in a server with
// SWITCHYARD_CONSUMER_THREAD=off. With `--writer-thread` they run in a writer thread of their own
// (bench/bus-writer.ts, with its own pool; commits linked across threads), as the server's request thread
// does beside its consumer thread (the server's default where it may use two cores); this thread then
// runs the bus, counts and reports. On two cores the two give the same rate (docs/BENCHMARKS.md, stop 17).
//
//   node_modules/.bin/node bench/bus.ts [--events N] [--adapters postgres,kafka,rabbitmq] [--writer-thread] [...]
//
// Exit status: 0 when the run completed (whether or not the aims were met), 1 when something broke: a
// server could not be reached, an adapter failed, or events were lost.
import { readdir, readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  type Bus,
  busMigrations,
  createBrokerBus,
  linkOutboxCommitsAcrossThreads,
  type Transport,
  type TransportMessage,
} from '@switchyard/bus';
import { createKafkaTransport } from '@switchyard/bus-kafka';
import { createPostgresBus, postgresBusMigrations } from '@switchyard/bus-postgres';
import { createRabbitTransport } from '@switchyard/bus-rabbitmq';
import { createLogger, createPool, migrate, type Pool, systemClock, uuidV7 } from '@switchyard/kernel';
import { createTestDatabase, type TestDatabase } from '@switchyard/testing';
import { createTestVhost, type TestVhost } from '@switchyard/testing/rabbitmq';
import {
  type AppendWindow,
  appendAll,
  type BenchData,
  DATA_BYTES,
  nowMs,
  PADS,
  startWriterThread,
  TOPIC,
} from './bus-append.ts';
import { codeVersion } from './code-version.ts';
import { type CpuUse, measureCpu } from './cpu.ts';
import {
  type BenchKafka,
  benchKafka,
  type ProducerPerformanceResult,
  producerPerformance,
} from './kafka-perf.ts';

const ADAPTERS = ['postgres', 'kafka', 'rabbitmq'] as const;
type Adapter = (typeof ADAPTERS)[number];

const GROUP = 'bench-consumer';
/** The settings apps/server/src/server.ts gives each bus. */
const POSTGRES_BATCH_SIZE = 500;
const RELAY_BATCH_SIZE = 500;
const POLL_INTERVAL_MS = 500;
/** Each thread's pool (the server's request thread keeps one of 20). */
const POOL_SIZE = 20;
/** Give up on a path when no event was handled for this long. */
const STALL_MS = 60_000;
const AIM_POSTGRES_EVENTS_PER_SECOND = 5_000;
const AIM_KAFKA_SHARE_OF_CEILING = 0.5;

const USAGE = `Usage: node_modules/.bin/node bench/bus.ts [options]

  --events <n>         events per path (default 100000); also ProducerPerformance's --num-records
  --adapters <list>    comma list of ${ADAPTERS.join(', ')} (default: all)
  --batch <n>          events per append transaction (default 500)
  --writers <n>        append transactions under way at once (default 1)
  --keys <n>           partition keys the events are spread over (default 64)
  --concurrency <n>    the subscription's concurrency (default 4)
  --partitions <n>     partitions of the Kafka topics (default 8)
  --rate <n>           append at most n events/s (default: as fast as appends go)
  --writer-thread      append in a writer thread of this process with its own pool, as the server does
                       with its consumer thread (default: on the bus's thread, as with the thread off)
  --kafka <host:port>  use this Kafka broker instead of starting one (scripts/kafka, temporary directory)
  --warm-up-records <n>
                       records ProducerPerformance sends to warm the broker before the ceiling is measured
                       (default 400000; 0: measure on the broker as it is)
  --no-ceiling         skip ProducerPerformance and the transport-only publish run
`;

interface Options {
  events: number;
  adapters: Adapter[];
  batch: number;
  /** Append transactions under way at once (as a server's concurrent requests would write). */
  writers: number;
  keys: number;
  concurrency: number;
  partitions: number;
  rate: number | undefined;
  /** Append on the bus's thread rather than in a writer thread. */
  oneThread: boolean;
  kafka: string | undefined;
  ceiling: boolean;
  /** Records sent to warm the broker up between the fresh-broker and the judged ceiling (0: no warm-up). */
  warmUpRecords: number;
}

interface Latencies {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Where a path spends its time, measured around the adapter's calls (no code of the adapters changed). */
interface Stages {
  /** Broker paths: each relay `publish` call (a batch of up to RELAY_BATCH_SIZE), until the broker acked. */
  publish?: { calls: number; p50: number; p99: number };
  /** Broker paths: each message's trip through the consumer runner (its own transaction), and how many ran at once. */
  handle?: { calls: number; p50: number; p99: number; meanInFlight: number };
  /** Broker paths: runs of messages (a Kafka fetch of a partition) handed to the runner at once. */
  runs?: { calls: number; messages: number; p50: number; p99: number };
  /** PostgreSQL path: consumer passes back to back (read a batch, handle it, move the offset, commit). */
  pass?: { passes: number; meanEvents: number; p50: number; p99: number; max: number };
}

interface PathFigures {
  adapter: Adapter;
  events: number;
  handled: number;
  /** Milliseconds from the first append's start to the last event handled. */
  elapsedMs: number;
  eventsPerSecond: number;
  /** Milliseconds from the first append's start to the last append's commit. */
  appendMs: number;
  appendedPerSecond: number;
  /** Broker paths: events over the time from the first append's start until the relay had published all. */
  relayedPerSecond: number | undefined;
  latency: Latencies;
  stages: Stages;
  cpu: CpuUse | undefined;
  complete: boolean;
}

interface PublishOnlyFigures {
  messages: number;
  elapsedMs: number;
  messagesPerSecond: number;
  cpu: CpuUse | undefined;
}

/** ProducerPerformance's runs: on the broker as it came, the warm-up, and the judged ceiling after it. */
interface Ceilings {
  first: ProducerPerformanceResult;
  warmUp?: ProducerPerformanceResult;
  /** The warm broker's ceiling (the first run's when there was no warm-up). */
  judged: ProducerPerformanceResult;
}

class BenchError extends Error {
  override name = 'BenchError';
}

const log = createLogger({ level: 'warn', destination: process.stderr });
const interrupt = new AbortController();
const startLoad = loadAverage();
const startVersion = codeVersion();

function say(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

function positive(name: string, value: string, max: number): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) {
    throw new BenchError(`--${name}: expected a whole number from 1 to ${max}, got ${value}`);
  }
  return parsed;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string', default: '100000' },
      adapters: { type: 'string', default: ADAPTERS.join(',') },
      batch: { type: 'string', default: '500' },
      writers: { type: 'string', default: '1' },
      keys: { type: 'string', default: '64' },
      concurrency: { type: 'string', default: '4' },
      partitions: { type: 'string', default: '8' },
      rate: { type: 'string' },
      'writer-thread': { type: 'boolean', default: false },
      kafka: { type: 'string' },
      'no-ceiling': { type: 'boolean', default: false },
      'warm-up-records': { type: 'string', default: '400000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return null;
  }
  const adapters = values.adapters.split(',').map((name) => name.trim());
  const unknown = adapters.filter((name) => !(ADAPTERS as readonly string[]).includes(name));
  if (adapters.length === 0 || unknown.length > 0) {
    throw new BenchError(
      `--adapters: expected a comma list of ${ADAPTERS.join(', ')}, got ${values.adapters}`,
    );
  }
  if (values.kafka !== undefined && !/^[A-Za-z0-9.-]+:\d{1,5}$/.test(values.kafka)) {
    throw new BenchError(`--kafka: expected host:port, got ${values.kafka}`);
  }
  return {
    events: positive('events', values.events, 10_000_000),
    adapters: ADAPTERS.filter((name) => adapters.includes(name)),
    batch: positive('batch', values.batch, 10_000),
    writers: positive('writers', values.writers, 64),
    keys: positive('keys', values.keys, 1_000_000),
    concurrency: positive('concurrency', values.concurrency, 256),
    partitions: positive('partitions', values.partitions, 1024),
    rate: values.rate === undefined ? undefined : positive('rate', values.rate, 10_000_000),
    oneThread: !values['writer-thread'],
    kafka: values.kafka,
    ceiling: !values['no-ceiling'],
    warmUpRecords:
      values['warm-up-records'] === '0'
        ? 0
        : positive('warm-up-records', values['warm-up-records'], 100_000_000),
  };
}

function checkInterrupted(): void {
  if (interrupt.signal.aborted) throw new BenchError('interrupted');
}

function unique(): string {
  return Math.random().toString(36).slice(2, 10);
}

/** Process ids whose command line contains every one of `parts` (the RabbitMQ server, for the CPU figures). */
async function findPids(parts: string[]): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry)) continue;
    const command = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (parts.every((part) => command.includes(part))) found.push(Number(entry));
  }
  return found;
}

// ---- events ------------------------------------------------------------------------------------------------

function isBenchData(value: unknown): value is BenchData {
  if (typeof value !== 'object' || value === null) return false;
  const data = value as Record<string, unknown>;
  return typeof data.seq === 'number' && typeof data.sentAt === 'number';
}

/** Counts handled events once each and keeps their latencies; `done` resolves when all arrived. */
function createTally(events: number) {
  const seen = new Uint8Array(events);
  const latencies = new Float64Array(events);
  let handled = 0;
  let duplicates = 0;
  let lastAt = 0;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  return {
    done,
    get handled() {
      return handled;
    },
    get duplicates() {
      return duplicates;
    },
    get lastAt() {
      return lastAt;
    },
    latencies: () => latencies.subarray(0, handled),
    handle(data: unknown): void {
      const at = nowMs();
      if (!isBenchData(data) || data.seq < 0 || data.seq >= events) {
        throw new BenchError(`unexpected event data ${JSON.stringify(data).slice(0, 100)}`);
      }
      if (seen[data.seq] === 1) {
        duplicates += 1;
        return;
      }
      seen[data.seq] = 1;
      latencies[handled] = at - data.sentAt;
      handled += 1;
      lastAt = at;
      if (handled === events) resolveDone();
    },
  };
}

function percentiles(values: Float64Array): Latencies {
  if (values.length === 0) return { p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1] ?? Number.NaN };
}

/** Resolves when every event was handled; false when nothing moved for STALL_MS (or on Ctrl-C). */
async function waitForAll(tally: ReturnType<typeof createTally>, events: number): Promise<boolean> {
  let last = tally.handled;
  let lastMoved = performance.now();
  for (;;) {
    if (tally.handled >= events) return true;
    if (interrupt.signal.aborted) return false;
    const outcome = await Promise.race([
      tally.done.then(() => 'done' as const),
      sleep(1000, 'tick' as const),
    ]);
    if (outcome === 'done') return true;
    if (tally.handled !== last) {
      last = tally.handled;
      lastMoved = performance.now();
    } else if (performance.now() - lastMoved > STALL_MS) {
      say(`no event handled for ${STALL_MS / 1000} s; giving up at ${tally.handled} of ${events}`);
      return false;
    }
  }
}

/**
 * Broker paths: polls the relay's offset (bus.relay_offsets) every 100 ms and notes when it passed the last
 * appended event, which splits the path's time into relaying (outbox -> broker) and consuming.
 */
function watchRelay(pool: Pool, relay: string) {
  let target: { txid: bigint; position: bigint } | undefined;
  let doneAt: number | undefined;
  let stopped = false;
  const loop = (async () => {
    while (!stopped && doneAt === undefined) {
      const result = await pool
        .query<{ txid: string; position: string }>(
          'SELECT last_txid::text AS txid, last_position::text AS position FROM bus.relay_offsets WHERE relay = $1',
          [relay],
        )
        .catch(() => undefined);
      const row = result?.rows[0];
      if (row && target) {
        const txid = BigInt(row.txid);
        const position = BigInt(row.position);
        if (txid > target.txid || (txid === target.txid && position >= target.position)) doneAt = nowMs();
      }
      await sleep(100);
    }
  })();
  return {
    /** The last appended event: call once appending is over. */
    async setTarget(): Promise<void> {
      const result = await pool.query<{ txid: string; position: string }>(
        'SELECT txid::text AS txid, position::text AS position FROM bus.outbox ORDER BY txid DESC, position DESC LIMIT 1',
      );
      const row = result.rows[0];
      if (row) target = { txid: BigInt(row.txid), position: BigInt(row.position) };
    },
    async stop(): Promise<number | undefined> {
      stopped = true;
      await loop;
      return doneAt;
    },
  };
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

/** The transport with timers around `publish` and around the consumer's handler (the runner). */
function timedTransport(inner: Transport) {
  const publishMs: number[] = [];
  const handleMs: number[] = [];
  const runMs: number[] = [];
  let runMessages = 0;
  let inFlight = 0;
  let inFlightSum = 0;
  const transport: Transport = {
    kind: inner.kind,
    connect: (topics) => inner.connect(topics),
    close: () => inner.close(),
    async publish(messages) {
      const started = performance.now();
      await inner.publish(messages);
      publishMs.push(performance.now() - started);
    },
    consume: (group, topics, handler, consumeOptions) =>
      inner.consume(
        group,
        topics,
        async (message) => {
          const started = performance.now();
          inFlight += 1;
          inFlightSum += inFlight;
          try {
            await handler(message);
          } finally {
            inFlight -= 1;
            handleMs.push(performance.now() - started);
          }
        },
        {
          ...consumeOptions,
          ...(consumeOptions.batchHandler
            ? {
                batchHandler: async (messages: TransportMessage[]) => {
                  const started = performance.now();
                  try {
                    await consumeOptions.batchHandler?.(messages);
                  } finally {
                    runMs.push(performance.now() - started);
                    runMessages += messages.length;
                  }
                },
              }
            : {}),
        },
      ),
  };
  return {
    transport,
    stages(): Stages {
      return {
        publish: { calls: publishMs.length, p50: quantile(publishMs, 0.5), p99: quantile(publishMs, 0.99) },
        handle: {
          calls: handleMs.length,
          p50: quantile(handleMs, 0.5),
          p99: quantile(handleMs, 0.99),
          meanInFlight: handleMs.length === 0 ? Number.NaN : inFlightSum / handleMs.length,
        },
        runs: {
          calls: runMs.length,
          messages: runMessages,
          p50: quantile(runMs, 0.5),
          p99: quantile(runMs, 0.99),
        },
      };
    },
  };
}

/** Times the PostgreSQL bus's passes that follow a pass which dealt with events (so no idle wait is included). */
function passTimer() {
  const passMs: number[] = [];
  let events = 0;
  let previous: { at: number; dealt: number } | undefined;
  return {
    onPass(_group: string, dealt: number) {
      const at = performance.now();
      if (previous && previous.dealt > 0 && dealt > 0) {
        passMs.push(at - previous.at);
        events += dealt;
      }
      previous = { at, dealt };
    },
    stages(): Stages {
      return {
        pass: {
          passes: passMs.length,
          meanEvents: passMs.length === 0 ? Number.NaN : events / passMs.length,
          p50: quantile(passMs, 0.5),
          p99: quantile(passMs, 0.99),
          max: passMs.length === 0 ? Number.NaN : Math.max(...passMs),
        },
      };
    },
  };
}

// ---- one path ----------------------------------------------------------------------------------------------

async function runPath(
  adapter: Adapter,
  options: Options,
  kafka: BenchKafka | undefined,
): Promise<PathFigures> {
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    const db: TestDatabase = await createTestDatabase('bench_bus');
    cleanup.push(() => db.drop());
    say(`${adapter}: database ${db.name}`);
    const pool = createPool({
      connectionString: db.url,
      maxConnections: POOL_SIZE,
      applicationName: 'switchyard',
    });
    cleanup.push(() => pool.end());
    await migrate(pool, [busMigrations, postgresBusMigrations], log);
    if (!options.oneThread) {
      // The writer thread's commits must wake this thread's readers (relay, consumer) at once.
      const unlinkCommits = linkOutboxCommitsAcrossThreads();
      cleanup.push(async () => unlinkCommits());
    }

    const deps = { pool, log, clock: systemClock, ids: uuidV7 };
    const cpuPids: Record<string, number[]> = { 'bench process (bus)': [process.pid] };
    let bus: Bus;
    let stages: () => Stages;
    if (adapter === 'postgres') {
      const timer = passTimer();
      stages = () => timer.stages();
      bus = createPostgresBus({
        ...deps,
        pollIntervalMs: POLL_INTERVAL_MS,
        batchSize: POSTGRES_BATCH_SIZE,
        onPass: timer.onPass,
      });
    } else {
      let transport: Transport;
      if (adapter === 'kafka') {
        if (!kafka) throw new BenchError('no Kafka broker');
        transport = createKafkaTransport({
          brokers: [kafka.brokers],
          clientId: 'switchyard-bench',
          partitions: options.partitions,
          log,
        });
        if (kafka.pid !== undefined) cpuPids['kafka broker'] = [kafka.pid];
      } else {
        const vhost: TestVhost = await createTestVhost('bench_bus');
        cleanup.push(() => vhost.drop());
        say(`rabbitmq: vhost ${vhost.name}`);
        transport = createRabbitTransport({ url: vhost.url, log });
        cpuPids['rabbitmq server'] = await findPids(['beam.smp', 'rabbit']);
      }
      const timed = timedTransport(transport);
      stages = () => timed.stages();
      bus = createBrokerBus({
        ...deps,
        transport: timed.transport,
        topics: [TOPIC],
        relayBatchSize: RELAY_BATCH_SIZE,
        pollIntervalMs: POLL_INTERVAL_MS,
        namespace: `bench-${unique()}.`,
      });
    }

    const tally = createTally(options.events);
    let handlerError: unknown;
    bus.subscribe(
      GROUP,
      [TOPIC],
      async (event) => {
        try {
          tally.handle(event.data);
        } catch (error) {
          handlerError ??= error;
          throw error;
        }
      },
      { concurrency: options.concurrency },
    );
    await bus.start();
    cleanup.push(() => bus.stop());

    let append: () => Promise<AppendWindow>;
    if (options.oneThread) {
      append = () => appendAll(pool, options, interrupt.signal);
    } else {
      const writer = await startWriterThread(
        {
          databaseUrl: db.url,
          poolSize: POOL_SIZE,
          options: {
            events: options.events,
            batch: options.batch,
            writers: options.writers,
            keys: options.keys,
            rate: options.rate,
          },
        },
        interrupt.signal,
      );
      cleanup.push(() => writer.stop());
      append = () => writer.append();
    }

    say(
      `${adapter}: appending ${options.events} events of ${DATA_BYTES} bytes in transactions of ${options.batch} ` +
        `on the ${appendThread(options)}`,
    );
    const cpu = await measureCpu({ pids: cpuPids, database: db.name });
    const relay = adapter === 'postgres' ? undefined : watchRelay(pool, adapter);
    const appended = await append();
    await relay?.setTarget();
    say(
      `${adapter}: appended in ${fixed((appended.endedAt - appended.startedAt) / 1000, 2)} s; ` +
        `${tally.handled} handled so far`,
    );
    const complete = await waitForAll(tally, options.events);
    const cpuUse = await cpu.stop();
    const relayedAt = await relay?.stop();
    if (handlerError !== undefined) throw handlerError;
    if (tally.duplicates > 0) say(`${adapter}: ${tally.duplicates} events were handed to the handler twice`);

    const elapsedMs = tally.lastAt - appended.startedAt;
    const appendMs = appended.endedAt - appended.startedAt;
    return {
      adapter,
      events: options.events,
      handled: tally.handled,
      elapsedMs,
      eventsPerSecond: (tally.handled / elapsedMs) * 1000,
      appendMs,
      appendedPerSecond: (options.events / appendMs) * 1000,
      relayedPerSecond:
        relayedAt === undefined ? undefined : (options.events / (relayedAt - appended.startedAt)) * 1000,
      latency: percentiles(tally.latencies()),
      stages: stages(),
      cpu: cpuUse,
      complete,
    };
  } finally {
    for (const step of cleanup.reverse()) {
      await step().catch((error: unknown) => say(`${adapter}: cleanup failed: ${(error as Error).message}`));
    }
  }
}

/**
 * Switchyard's Kafka transport alone: the same messages as the relay would send (1 KB values, 64 keys), in
 * `publish` calls of RELAY_BATCH_SIZE one after another, as the relay makes them; no database.
 */
async function publishOnly(options: Options, kafka: BenchKafka): Promise<PublishOnlyFigures> {
  const transport = createKafkaTransport({
    brokers: [kafka.brokers],
    clientId: 'switchyard-bench',
    partitions: options.partitions,
    log,
  });
  try {
    const topic = `bench-publish-${unique()}`;
    await transport.connect([topic]);
    say(`kafka transport: publishing ${options.events} messages to ${topic}`);
    const cpu = await measureCpu({
      pids: {
        'bench process (publish)': [process.pid],
        ...(kafka.pid ? { 'kafka broker': [kafka.pid] } : {}),
      },
    });
    const started = performance.now();
    for (let first = 0; first < options.events; first += RELAY_BATCH_SIZE) {
      checkInterrupted();
      const messages = [];
      for (let seq = first; seq < Math.min(options.events, first + RELAY_BATCH_SIZE); seq++) {
        const data: BenchData = { seq, sentAt: nowMs(), pad: PADS[seq % PADS.length] ?? '' };
        messages.push({
          topic,
          key: `key-${seq % options.keys}`,
          value: Buffer.from(JSON.stringify(data)),
          headers: { ce_id: uuidV7(), ce_type: 'bench.event' },
        });
      }
      await transport.publish(messages);
    }
    const elapsedMs = performance.now() - started;
    return {
      messages: options.events,
      elapsedMs,
      messagesPerSecond: (options.events / elapsedMs) * 1000,
      cpu: await cpu.stop(),
    };
  } finally {
    await transport.close();
  }
}

// ---- report ------------------------------------------------------------------------------------------------

function loadAverage(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

function fixed(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ms(value: number): string {
  return value < 10 ? fixed(value, 1) : fixed(value);
}

/** Which thread appends: `bus thread` (the default) or `writer thread` (--writer-thread). */
function appendThread(options: Options): string {
  return options.oneThread ? 'bus thread' : 'writer thread';
}

function topologyLine(options: Options): string {
  return options.oneThread
    ? `appends: ${appendThread(options)} (on the event loop of the relay and consumer)`
    : `appends: ${appendThread(options)} (--writer-thread: a worker thread with its own pool; the bus runs on the main thread)`;
}

/**
 * A group below zero lost a process during the window (an idle pool connection closed, say): its CPU time
 * left /proc with it, so that group reads low and "other processes" high by as much.
 */
function cpuParts(cpu: CpuUse): string {
  const parts = cpu.byGroup.map((group) => `${group.name} ${fixed(group.cores, 2)}`).join(', ');
  const exited = cpu.byGroup.some((group) => group.cores < 0);
  return exited ? `${parts} (a process exited during the window: groups are lower bounds)` : parts;
}

function cpuLine(name: string, cpu: CpuUse | undefined): string | undefined {
  if (!cpu) return undefined;
  const parts = cpuParts(cpu);
  return `cpu during ${name}, in cores (of ${cpu.cores}): busy ${fixed(cpu.busy, 2)}: ${parts}`;
}

function printReport(
  options: Options,
  ceilings: Ceilings | undefined,
  publish: PublishOnlyFigures | undefined,
  kafkaWarmUp: PathFigures | undefined,
  paths: PathFigures[],
): void {
  type Column = { title: string; cells: Map<string, string> };
  const columns: Column[] = [];
  const ceiling = ceilings?.judged;
  if (ceiling) {
    columns.push({
      title: `ceiling: ProducerPerformance${ceilings?.warmUp ? ' (warm broker)' : ''}`,
      cells: new Map([
        ['events', fixed(ceiling.records)],
        ['events/s (first append -> last handled)', `${fixed(ceiling.recordsPerSecond)} (sent)`],
        ['latency p50 (ms)', `${fixed(ceiling.p50Ms)} (ack)`],
        ['latency p95 (ms)', `${fixed(ceiling.p95Ms)} (ack)`],
        ['latency p99 (ms)', `${fixed(ceiling.p99Ms)} (ack)`],
        ['latency max (ms)', `${fixed(ceiling.maxMs)} (ack)`],
      ]),
    });
  }
  if (publish) {
    columns.push({
      title: 'kafka transport publish only',
      cells: new Map([
        ['events', fixed(publish.messages)],
        ['events/s (first append -> last handled)', `${fixed(publish.messagesPerSecond)} (acked)`],
      ]),
    });
  }
  for (const path of paths) {
    columns.push({
      title: `${path.adapter} end to end`,
      cells: new Map([
        ['events', `${fixed(path.handled)}${path.complete ? '' : ` of ${fixed(path.events)}`}`],
        ['events/s (first append -> last handled)', fixed(path.eventsPerSecond)],
        ['appended/s (outbox, in this process)', fixed(path.appendedPerSecond)],
        [
          'relayed/s (first append -> all published)',
          path.relayedPerSecond === undefined ? '-' : fixed(path.relayedPerSecond),
        ],
        ['elapsed (s)', fixed(path.elapsedMs / 1000, 2)],
        ['latency p50 (ms)', ms(path.latency.p50)],
        ['latency p95 (ms)', ms(path.latency.p95)],
        ['latency p99 (ms)', ms(path.latency.p99)],
        ['latency max (ms)', ms(path.latency.max)],
      ]),
    });
  }
  const labels = [
    'events',
    'events/s (first append -> last handled)',
    'appended/s (outbox, in this process)',
    'relayed/s (first append -> all published)',
    'elapsed (s)',
    'latency p50 (ms)',
    'latency p95 (ms)',
    'latency p99 (ms)',
    'latency max (ms)',
  ];
  const rows = labels.map((label) => [label, ...columns.map((column) => column.cells.get(label) ?? '-')]);
  const headers = ['', ...columns.map((column) => column.title)];
  const widths = headers.map((_, i) => Math.max(...[headers, ...rows].map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');

  const cpu = cpus();
  const out: string[] = [
    '',
    `${fixed(options.events)} events of ${DATA_BYTES} bytes of data, appended in transactions of ${options.batch} by ${options.writers} writer(s), ` +
      `${options.keys} partition keys, subscription concurrency ${options.concurrency}, ` +
      `${options.partitions} Kafka partitions${options.rate ? `, appends limited to ${fixed(options.rate)}/s` : ''}`,
    topologyLine(options),
    `node ${process.version}, ${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown CPU'}`,
    `load average (1, 5, 15 min) at start ${startLoad}, at end ${loadAverage()}`,
    `code: ${startVersion} at start, ${codeVersion()} at end`,
    '',
    line(headers),
    line(headers.map((header, i) => (i === 0 ? '' : '-'.repeat(widths[i] ?? header.length)))),
    ...rows.map(line),
    '',
  ];
  if (ceilings && ceiling) {
    out.push(`ceiling command: ${ceiling.command}`);
    out.push(
      `  ${fixed(ceiling.mbPerSecond, 2)} MB/s, avg ${fixed(ceiling.avgMs, 1)} ms (send -> acknowledged)`,
    );
    if (ceilings.warmUp) {
      out.push(
        `  before it: ${fixed(ceilings.first.recordsPerSecond)} records/s on the broker as it came, ` +
          `then a warm-up of ${fixed(ceilings.warmUp.records)} records at ${fixed(ceilings.warmUp.recordsPerSecond)}/s`,
      );
    } else {
      out.push('  no warm-up (--warm-up-records 0): measured on the broker as it came');
    }
  }
  for (const text of [
    cpuLine(
      ceilings?.warmUp ? 'ProducerPerformance on the warm broker' : 'ProducerPerformance',
      ceiling?.cpu,
    ),
    cpuLine(
      'ProducerPerformance on the broker as it came',
      ceilings?.warmUp ? ceilings.first.cpu : undefined,
    ),
    cpuLine('the transport-only publish', publish?.cpu),
    ...paths.map((path) => cpuLine(`the ${path.adapter} path`, path.cpu)),
  ]) {
    if (text) out.push(text);
  }

  if (kafkaWarmUp) {
    out.push(
      `kafka path warm-up before the measured run: ${fixed(kafkaWarmUp.events)} events at ${fixed(kafkaWarmUp.eventsPerSecond)}/s`,
    );
  }
  for (const path of paths) {
    const { publish: relay, handle, runs, pass } = path.stages;
    if (relay) {
      out.push(
        `${path.adapter} relay: ${fixed(relay.calls)} publish calls, ${ms(relay.p50)} ms p50, ${ms(relay.p99)} ms p99 each`,
      );
    }
    if (runs && runs.calls > 0) {
      out.push(
        `${path.adapter} consumer: ${fixed(runs.calls)} runs of ${fixed(runs.messages / runs.calls)} messages on average ` +
          `through the runner in one transaction each, ${ms(runs.p50)} ms p50, ${ms(runs.p99)} ms p99 each`,
      );
    }
    if (handle && handle.calls > 0) {
      out.push(
        `${path.adapter} consumer: ${fixed(handle.calls)} messages through the runner, ${ms(handle.p50)} ms p50, ` +
          `${ms(handle.p99)} ms p99 each, ${fixed(handle.meanInFlight, 2)} in the handler at once on average`,
      );
    }
    if (pass) {
      out.push(
        `${path.adapter} consumer: ${fixed(pass.passes)} back-to-back passes of ${fixed(pass.meanEvents)} events on average, ` +
          `${ms(pass.p50)} ms p50, ${ms(pass.p99)} ms p99, ${ms(pass.max)} ms max each`,
      );
    }
  }

  out.push('');
  const postgres = paths.find((path) => path.adapter === 'postgres');
  if (postgres && options.rate !== undefined && options.rate < AIM_POSTGRES_EVENTS_PER_SECOND) {
    out.push(
      `aim: PostgreSQL path >= ${fixed(AIM_POSTGRES_EVENTS_PER_SECOND)} events/s: not judged ` +
        `(appends limited to ${fixed(options.rate)}/s)`,
    );
  } else if (postgres) {
    const met = postgres.complete && postgres.eventsPerSecond >= AIM_POSTGRES_EVENTS_PER_SECOND;
    out.push(
      `aim: PostgreSQL path >= ${fixed(AIM_POSTGRES_EVENTS_PER_SECOND)} events/s: ${met ? 'MET' : 'NOT MET'} ` +
        `(${fixed(postgres.eventsPerSecond)} events/s` +
        `${options.rate === undefined ? '' : `, appends limited to ${fixed(options.rate)}/s`})`,
    );
  }
  if (options.rate !== undefined) {
    for (const path of paths) {
      const kept = path.complete && path.eventsPerSecond >= 0.97 * options.rate;
      out.push(
        `${path.adapter} kept up with the ${fixed(options.rate)} events/s offered: ${kept ? 'yes' : 'no'} ` +
          `(${fixed(path.eventsPerSecond)} events/s, p99 ${ms(path.latency.p99)} ms)`,
      );
    }
  }
  const kafkaPath = paths.find((path) => path.adapter === 'kafka');
  if (kafkaPath) {
    if (ceiling && options.rate === undefined) {
      const share = kafkaPath.eventsPerSecond / ceiling.recordsPerSecond;
      const met = kafkaPath.complete && share >= AIM_KAFKA_SHARE_OF_CEILING;
      out.push(
        `aim: Kafka path >= ${fixed(100 * AIM_KAFKA_SHARE_OF_CEILING)} % of ProducerPerformance: ${met ? 'MET' : 'NOT MET'} ` +
          `(${fixed(kafkaPath.eventsPerSecond)} of ${fixed(ceiling.recordsPerSecond)} records/s, ${fixed(100 * share, 1)} %)`,
      );
      if (ceilings?.warmUp) {
        // Until stop 18 the share was taken of the first run; it stays printed so old figures compare.
        out.push(
          `  of the run on the broker as it came: ${fixed((100 * kafkaPath.eventsPerSecond) / ceilings.first.recordsPerSecond, 1)} % ` +
            `(${fixed(ceilings.first.recordsPerSecond)} records/s; the judge until stop 18)`,
        );
      }
    } else {
      const why = ceiling ? `appends limited to ${fixed(options.rate ?? 0)}/s` : '--no-ceiling';
      out.push(
        `aim: Kafka path >= ${fixed(100 * AIM_KAFKA_SHARE_OF_CEILING)} % of ProducerPerformance: not judged (${why})`,
      );
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

// ---- main --------------------------------------------------------------------------------------------------

/**
 * ProducerPerformance on the broker as it comes (a fresh JVM when the bench started it), then, after
 * `--warm-up-records` more, again: the second is the ceiling the Kafka path is judged against. A fresh
 * broker compiles its hot code while the first run sends, and gave 22,500–24,700 records/s where the
 * same broker warmed up gave 33,500–44,600 (docs/BENCHMARKS.md, stop 19). The path runs after both, on
 * the warm broker, so both sides of the share are measured on the same broker in the same state.
 */
async function measureCeilings(options: Options, kafka: BenchKafka): Promise<Ceilings> {
  const run = (numRecords: number) =>
    producerPerformance({
      brokers: kafka.brokers,
      topic: `bench-perf-${unique()}`,
      partitions: options.partitions,
      numRecords,
      recordSize: DATA_BYTES,
      brokerPid: kafka.pid,
      say,
    });
  const first = await run(options.events);
  say(`ProducerPerformance: ${fixed(first.recordsPerSecond)} records/s on the broker as it came`);
  if (options.warmUpRecords === 0) return { first, judged: first };
  const warmUp = await run(options.warmUpRecords);
  say(
    `ProducerPerformance: warm-up of ${fixed(warmUp.records)} records at ${fixed(warmUp.recordsPerSecond)}/s`,
  );
  const judged = await run(options.events);
  say(`ProducerPerformance: ${fixed(judged.recordsPerSecond)} records/s on the warm broker`);
  return { first, warmUp, judged };
}

/**
 * Half the events through the Kafka path before the measured run, when the ceiling was measured warm: the
 * broker's produce code is warm by then, but not its fetch path or the decompression of the relay's
 * batches (the broker took 0.42 cores for a path run right after a warm ProducerPerformance, 0.28–0.33
 * with this warm-up before it).
 */
async function warmUpKafkaPath(options: Options, kafka: BenchKafka): Promise<PathFigures> {
  const events = Math.max(1, Math.round(options.events / 2));
  say(`kafka: warm-up run of ${fixed(events)} events (not judged)`);
  const figures = await runPath('kafka', { ...options, events }, kafka);
  if (!figures.complete) throw new BenchError(`kafka warm-up: only ${figures.handled} of ${events} handled`);
  return figures;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) return 0;
  process.on('SIGINT', () => interrupt.abort());

  const failures: string[] = [];
  const paths: PathFigures[] = [];
  let ceilings: Ceilings | undefined;
  let publish: PublishOnlyFigures | undefined;
  let kafkaWarmUp: PathFigures | undefined;
  const needsKafka = options.adapters.includes('kafka') || options.ceiling;
  let kafka: BenchKafka | undefined;
  try {
    if (needsKafka) {
      say(options.kafka ? `Kafka at ${options.kafka}` : 'starting a Kafka broker of its own (scripts/kafka)');
      kafka = await benchKafka(options.kafka);
      say(`Kafka listens on ${kafka.brokers}`);
    }
    if (options.ceiling && kafka) {
      ceilings = await measureCeilings(options, kafka);
      if (options.adapters.includes('kafka')) {
        publish = await publishOnly(options, kafka);
        if (ceilings.warmUp) kafkaWarmUp = await warmUpKafkaPath(options, kafka);
      }
    }
    for (const adapter of options.adapters) {
      checkInterrupted();
      try {
        const figures = await runPath(adapter, options, kafka);
        paths.push(figures);
        say(`${adapter}: ${fixed(figures.eventsPerSecond)} events/s, p99 ${ms(figures.latency.p99)} ms`);
        if (!figures.complete) {
          failures.push(`${adapter}: only ${figures.handled} of ${figures.events} events were handled`);
        }
      } catch (error) {
        failures.push(`${adapter}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  } catch (error) {
    failures.push(error instanceof Error ? error.message : String(error));
  } finally {
    if (kafka?.own) {
      await kafka
        .remove()
        .catch((error: unknown) => failures.push(`stopping Kafka: ${(error as Error).message}`));
    }
  }
  printReport(options, ceilings, publish, kafkaWarmUp, paths);
  if (failures.length > 0) {
    process.stdout.write(`\nFAILED:\n${failures.map((failure) => `  - ${failure}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();

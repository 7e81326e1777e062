// Activity events end to end through the real server: ingest (source D's single `POST /events/generate` and
// the batch `POST /api/v1/activity/events:batch`) until the events are processed into activity.events (what
// `GET /events/processed` lists), on the PostgreSQL bus and on Kafka, beside Kafka's own producer benchmark
// (ProducerPerformance) on the same broker as the ceiling.
//
//   node_modules/.bin/node bench/activity.ts [--duration <s>] [--buses postgres,kafka] [...]
//
// The servers run in child processes and the load generator (autocannon) in this one, as in bench/tasks.ts.
// Each server gets a first admin and high rate limits (bench/identity.ts); every request sends an operator
// API key the admin creates.
// Exit status: 0 when the run completed (whether or not the aims were met), 1 when something broke: a server
// did not start or stop cleanly, a request failed, or accepted events were not processed.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTestDatabase, type TestDatabase } from '@switchyard/testing';
import autocannon from 'autocannon';
import pg from 'pg';
import { codeVersion } from './code-version.ts';
import { type CpuUse, measureCpu } from './cpu.ts';
import { apiKeyHeaders, identityEnv, newBenchIdentity } from './identity.ts';
import {
  type BenchKafka,
  benchKafka,
  type ProducerPerformanceResult,
  producerPerformance,
} from './kafka-perf.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The Node 24 the project pins; the machine's own `node` may be older. */
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const SERVER_MAIN = join(ROOT, 'apps', 'server', 'src', 'main.ts');

const BUSES = ['postgres', 'kafka'] as const;
type BusKind = (typeof BUSES)[number];

/** Source D's names (services/activity/src/domain.ts). */
const ACTIVITY_TOPIC = 'user-activity-events';
const EVENT_TYPES = ['LOGIN', 'LOGOUT', 'PRODUCT_VIEW'];
const WARMUP_SECONDS = 2;
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 60_000;
const POLL_MS = 200;
const CEILING_RECORD_BYTES = 1024;
const AIM_EVENTS_PER_SECOND = 5_000;
const AIM_P99_MS = 1_000;
/** The server's default SWITCHYARD_KAFKA_PARTITIONS (apps/server/src/config.ts). */
const SERVER_DEFAULT_PARTITIONS = 3;

const USAGE = `Usage: node_modules/.bin/node bench/activity.ts [options]

  --buses <list>           comma list of ${BUSES.join(', ')} (default: both)
  --duration <s>           length of the single-ingest run (default 10), after a ${WARMUP_SECONDS} s warm-up
  --connections <n>        autocannon connections for the single ingest (default 50)
  --batch-size <n>         events per batch request (default 1000)
  --batch-requests <n>     batch requests in the batch run (default 50)
  --batch-connections <n>  concurrent batch requests (default 4)
  --paced-rate <n>         events/s offered in the paced batch run (default ${AIM_EVENTS_PER_SECOND}; 0 skips it)
  --paced-seconds <s>      length of the paced batch run (default 10)
  --users <n>              distinct userIds the events are spread over (default 1000)
  --partitions <n>         SWITCHYARD_KAFKA_PARTITIONS for the server (default: the server's, ${SERVER_DEFAULT_PARTITIONS})
  --drain-timeout <s>      longest wait for the consumer to catch up after a run (default 600)
  --kafka <host:port>      use this Kafka broker instead of starting one (scripts/kafka, temporary directory)
  --ceiling-records <n>    ProducerPerformance --num-records (default 100000; 0 skips it)
`;

interface Options {
  buses: BusKind[];
  durationSeconds: number;
  connections: number;
  batchSize: number;
  batchRequests: number;
  batchConnections: number;
  pacedRate: number;
  pacedSeconds: number;
  users: number;
  partitions: number | undefined;
  drainTimeoutMs: number;
  kafka: string | undefined;
  ceilingRecords: number;
}

type LogEntry = Record<string, unknown>;

interface Child {
  process: ChildProcess;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  tail: string[];
  logLines: number;
  errorLines: string[];
}

type PhaseName = 'single' | 'batch' | 'paced batch';

interface Phase {
  bus: BusKind;
  name: PhaseName;
  /** What was sent, for the report. */
  load: string;
  result: autocannon.Result;
  /** Events committed to the outbox (accepted) during the run. */
  accepted: number;
  /** Events accepted per second of the load run. */
  acceptedPerSecond: number;
  /** Accepted events not yet processed when the load stopped. */
  backlogAtEnd: number;
  /** From the end of the load until the last accepted event was processed; null: gave up. */
  catchUpMs: number | null;
  processed: number;
  /** Processed events over the time from the load's start to the last one's processed_at. */
  endToEndPerSecond: number;
  /** processed_at - occurred_at (accepted) of the run's events, in ms. */
  latency: { p50: number; p95: number; p99: number; max: number };
  /** The newest processed event is served by GET /events/processed. */
  visible: boolean;
  cpu: CpuUse | undefined;
}

interface BusRun {
  bus: BusKind;
  postgres: string;
  phases: Phase[];
  logLines: number;
  errorLines: string[];
  partitions: number | undefined;
}

class BenchError extends Error {
  override name = 'BenchError';
}

let interrupted = false;
let running: autocannon.Instance | undefined;
const startLoad = loadAverage();
const startVersion = codeVersion();

function say(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

function whole(name: string, value: string, min: number, max: number): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new BenchError(`--${name}: expected a whole number from ${min} to ${max}, got ${value}`);
  }
  return parsed;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      buses: { type: 'string', default: BUSES.join(',') },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '50' },
      'batch-size': { type: 'string', default: '1000' },
      'batch-requests': { type: 'string', default: '50' },
      'batch-connections': { type: 'string', default: '4' },
      'paced-rate': { type: 'string', default: String(AIM_EVENTS_PER_SECOND) },
      'paced-seconds': { type: 'string', default: '10' },
      users: { type: 'string', default: '1000' },
      partitions: { type: 'string' },
      'drain-timeout': { type: 'string', default: '600' },
      kafka: { type: 'string' },
      'ceiling-records': { type: 'string', default: '100000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return null;
  }
  const buses = values.buses.split(',').map((name) => name.trim());
  const unknown = buses.filter((name) => !(BUSES as readonly string[]).includes(name));
  if (buses.length === 0 || unknown.length > 0) {
    throw new BenchError(`--buses: expected a comma list of ${BUSES.join(', ')}, got ${values.buses}`);
  }
  if (values.kafka !== undefined && !/^[A-Za-z0-9.-]+:\d{1,5}$/.test(values.kafka)) {
    throw new BenchError(`--kafka: expected host:port, got ${values.kafka}`);
  }
  const batchSize = whole('batch-size', values['batch-size'], 1, 1000);
  const pacedRate = whole('paced-rate', values['paced-rate'], 0, 1_000_000);
  if (pacedRate > 0 && pacedRate < batchSize) {
    throw new BenchError(`--paced-rate: at least one batch (${batchSize} events) per second, or 0`);
  }
  return {
    buses: BUSES.filter((name) => buses.includes(name)),
    durationSeconds: whole('duration', values.duration, 1, 600),
    connections: whole('connections', values.connections, 1, 1000),
    batchSize,
    batchRequests: whole('batch-requests', values['batch-requests'], 1, 100_000),
    batchConnections: whole('batch-connections', values['batch-connections'], 1, 100),
    pacedRate,
    pacedSeconds: whole('paced-seconds', values['paced-seconds'], 1, 600),
    users: whole('users', values.users, 1, 10_000_000),
    partitions: values.partitions === undefined ? undefined : whole('partitions', values.partitions, 1, 1024),
    drainTimeoutMs: whole('drain-timeout', values['drain-timeout'], 1, 3600) * 1000,
    kafka: values.kafka,
    ceilingRecords: whole('ceiling-records', values['ceiling-records'], 0, 10_000_000),
  };
}

function checkInterrupted(): void {
  if (interrupted) throw new BenchError('interrupted');
}

// ---- the server as a child process -------------------------------------------------------------------------

function remember(lines: string[], line: string, keep = 40): void {
  lines.push(line);
  if (lines.length > keep) lines.shift();
}

function parseEntry(line: string): LogEntry | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as LogEntry)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts `node apps/server/src/main.ts start` and resolves with its URL from the "switchyard started" line.
 * Output is read for the child's whole life (its pipe never fills); request lines are only counted.
 */
async function startServer(env: NodeJS.ProcessEnv): Promise<{ child: Child; url: string }> {
  const proc = spawn(NODE, [SERVER_MAIN, 'start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('close', (code, signal) => resolve({ code, signal }));
    proc.once('error', () => {
      if (proc.pid === undefined) resolve({ code: null, signal: null });
    });
  });
  const child: Child = { process: proc, exit, tail: [], logLines: 0, errorLines: [] };
  let settle: (url: string) => void = () => {};
  let fail: (error: Error) => void = () => {};
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new BenchError(`switchyard: not ready after ${START_TIMEOUT_MS / 1000} s`)),
      START_TIMEOUT_MS,
    );
    settle = (url) => {
      clearTimeout(timer);
      resolve(url);
    };
    fail = (error) => {
      clearTimeout(timer);
      reject(error);
    };
  });
  proc.once('error', (error) => fail(new BenchError(`switchyard: could not start: ${error.message}`)));
  void exit.then(({ code, signal }) =>
    fail(new BenchError(`switchyard exited before it was ready (code ${code}, signal ${signal})`)),
  );
  createInterface({ input: proc.stderr, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
    remember(child.tail, `[stderr] ${line}`);
  });
  createInterface({ input: proc.stdout, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
    child.logLines += 1;
    if (line.includes('"msg":"request completed"') && line.includes('"level":"info"')) return;
    remember(child.tail, line);
    const entry = parseEntry(line);
    if (!entry) return;
    if ((entry.level === 'error' || entry.level === 'fatal') && child.errorLines.length < 20) {
      child.errorLines.push(line);
    }
    if (entry.msg === 'switchyard started' && typeof entry.url === 'string') settle(entry.url);
  });
  try {
    return { child, url: await ready };
  } catch (error) {
    await stopServer(child).catch(() => {});
    const detail =
      child.tail.length > 0 ? `\n--- last output of switchyard ---\n${child.tail.join('\n')}` : '';
    throw new BenchError(`${(error as Error).message}${detail}`);
  }
}

/** SIGTERM, then waits for the exit; SIGKILL if it does not come in time. */
async function stopServer(child: Child): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const proc = child.process;
  if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
  const outcome = await Promise.race([
    child.exit,
    sleep(STOP_TIMEOUT_MS, 'timeout' as const, { ref: false }),
  ]);
  if (outcome !== 'timeout') return outcome;
  say(`switchyard did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM; killing it`);
  proc.kill('SIGKILL');
  return child.exit;
}

// ---- load --------------------------------------------------------------------------------------------------

/** Source D's request bodies: users round-robin, the three event types, a small payload (~100 bytes). */
function eventBody(
  n: number,
  users: number,
): { userId: string; eventType: string; payload: Record<string, unknown> } {
  return {
    userId: `user-${n % users}`,
    eventType: EVENT_TYPES[n % EVENT_TYPES.length] ?? 'LOGIN',
    payload: {
      page: `/products/${(n * 7919) % 5000}`,
      sessionId: `s-${(n * 104_729) % 1_000_003}`,
      bench: true,
    },
  };
}

/** Runs `options` with the credentials `auth` added to every request. */
async function load(options: autocannon.Options, auth: Record<string, string>): Promise<autocannon.Result> {
  checkInterrupted();
  const instance = autocannon({ ...options, headers: { ...options.headers, ...auth } });
  running = instance;
  try {
    return await instance;
  } finally {
    running = undefined;
  }
}

/** Single ingest: every request the next of `users` bodies, so events spread over users (and partitions). */
function singleLoad(url: string, seconds: number, connections: number, users: number): autocannon.Options {
  const bodies = Array.from({ length: Math.min(users, 10_000) }, (_, n) =>
    JSON.stringify(eventBody(n, users)),
  );
  let next = 0;
  return {
    url: `${url}/events/generate`,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => {
          next = (next + 1) % bodies.length;
          return { ...request, body: bodies[next] ?? bodies[0] ?? '' };
        },
      },
    ],
  };
}

/** Batch ingest: `amount` requests of `size` events each (or `seconds` at `rate` requests/s when paced). */
function batchLoad(
  url: string,
  size: number,
  connections: number,
  users: number,
  limit: { amount: number } | { seconds: number; requestsPerSecond: number },
): autocannon.Options {
  const bodies = Array.from({ length: 10 }, (_, b) =>
    JSON.stringify({ events: Array.from({ length: size }, (_, i) => eventBody(b * size + i, users)) }),
  );
  let next = 0;
  return {
    url: `${url}/api/v1/activity/events:batch`,
    // autocannon refuses more connections than requests.
    connections: 'amount' in limit ? Math.min(connections, limit.amount) : connections,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    timeout: 60,
    ...('amount' in limit
      ? { amount: limit.amount }
      : { duration: limit.seconds, overallRate: limit.requestsPerSecond }),
    requests: [
      {
        setupRequest: (request) => {
          next = (next + 1) % bodies.length;
          return { ...request, body: bodies[next] ?? bodies[0] ?? '' };
        },
      },
    ],
  };
}

// ---- database figures --------------------------------------------------------------------------------------

async function scalar(client: pg.Client, sql: string, values: unknown[] = []): Promise<number> {
  const result = await client.query<{ n: string | null }>(sql, values);
  return Number(result.rows[0]?.n ?? 0);
}

const countAccepted = (client: pg.Client) =>
  scalar(client, 'SELECT count(*)::text AS n FROM bus.outbox WHERE topic = $1', [ACTIVITY_TOPIC]);
const lastSeq = (client: pg.Client) =>
  scalar(client, 'SELECT coalesce(max(seq), 0)::text AS n FROM activity.events');
const countProcessedAfter = (client: pg.Client, seq: number) =>
  scalar(client, 'SELECT count(*)::text AS n FROM activity.events WHERE seq > $1', [seq]);

/** The accepted count once requests still in flight when the load stopped have committed. */
async function settledAccepted(client: pg.Client): Promise<number> {
  let previous = await countAccepted(client);
  for (let i = 0; i < 100; i++) {
    await sleep(POLL_MS);
    const current = await countAccepted(client);
    if (current === previous) return current;
    previous = current;
  }
  return previous;
}

/** Polls until `expected` events after `seq` are processed; null when it took longer than `timeoutMs`. */
async function catchUp(
  client: pg.Client,
  seq: number,
  expected: number,
  since: number,
  timeoutMs: number,
): Promise<number | null> {
  let lastReport = performance.now();
  while (performance.now() - since < timeoutMs) {
    checkInterrupted();
    const processed = await countProcessedAfter(client, seq);
    if (processed >= expected) return performance.now() - since;
    if (performance.now() - lastReport > 15_000) {
      say(`  consumer: ${processed} of ${expected} processed`);
      lastReport = performance.now();
    }
    await sleep(POLL_MS);
  }
  return null;
}

async function phaseStats(client: pg.Client, seq: number, loadStartedAtMs: number) {
  const result = await client.query<{
    n: number;
    last_ms: string | null;
    max_seq: string | null;
    p50: number | null;
    p95: number | null;
    p99: number | null;
    max: number | null;
  }>(
    `WITH run AS (
       SELECT seq, processed_at, extract(epoch FROM processed_at - occurred_at) * 1000 AS ms
         FROM activity.events WHERE seq > $1)
     SELECT count(*)::int AS n,
            (extract(epoch FROM max(processed_at)) * 1000)::text AS last_ms,
            max(seq)::text AS max_seq,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99,
            max(ms) AS max
       FROM run`,
    [seq],
  );
  const row = result.rows[0];
  const lastMs = Number(row?.last_ms ?? Number.NaN);
  const processed = row?.n ?? 0;
  return {
    processed,
    maxSeq: Number(row?.max_seq ?? 0),
    endToEndPerSecond: (processed / (lastMs - loadStartedAtMs)) * 1000,
    latency: {
      p50: Number(row?.p50 ?? Number.NaN),
      p95: Number(row?.p95 ?? Number.NaN),
      p99: Number(row?.p99 ?? Number.NaN),
      max: Number(row?.max ?? Number.NaN),
    },
  };
}

/** Whether GET /events/processed serves the event at `seq` (its cursor is the previous position). */
async function servedByApi(
  url: string,
  auth: Record<string, string>,
  client: pg.Client,
  seq: number,
): Promise<boolean> {
  if (seq <= 0) return false;
  const expected = await client.query<{ event_id: string }>(
    'SELECT event_id FROM activity.events WHERE seq = $1',
    [seq],
  );
  const cursor = Buffer.from(String(seq - 1)).toString('base64url');
  const response = await fetch(`${url}/events/processed?limit=1&cursor=${cursor}`, { headers: auth });
  if (!response.ok) return false;
  const body = (await response.json()) as { eventId?: unknown }[];
  return body[0]?.eventId === expected.rows[0]?.event_id;
}

// ---- one bus -----------------------------------------------------------------------------------------------

async function runBus(
  bus: BusKind,
  options: Options,
  kafka: BenchKafka | undefined,
  failures: string[],
): Promise<BusRun> {
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    const db: TestDatabase = await createTestDatabase('bench_activity');
    cleanup.push(async () => {
      await db.drop();
      say(`${bus}: dropped database ${db.name}`);
    });
    say(`${bus}: created database ${db.name}`);
    const identity = newBenchIdentity();
    const env: NodeJS.ProcessEnv = {
      ...identityEnv(process.env, identity),
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    };
    for (const name of [
      'DATABASE_URL',
      'SWITCHYARD_DATA_DIR',
      'SWITCHYARD_SERVICES',
      'SWITCHYARD_BUS',
      'KAFKA_BROKERS',
      'SWITCHYARD_KAFKA_PARTITIONS',
      'SWITCHYARD_BUS_NAMESPACE',
    ]) {
      delete env[name];
    }
    env.DATABASE_URL = db.url;
    const cpuPids: Record<string, number[]> = { 'bench (autocannon)': [process.pid] };
    if (bus === 'kafka') {
      if (!kafka) throw new BenchError('no Kafka broker');
      env.SWITCHYARD_BUS = 'kafka';
      env.KAFKA_BROKERS = kafka.brokers;
      env.SWITCHYARD_BUS_NAMESPACE = `bench-${randomBytes(4).toString('hex')}.`;
      if (options.partitions !== undefined) env.SWITCHYARD_KAFKA_PARTITIONS = String(options.partitions);
      if (kafka.pid !== undefined) cpuPids['kafka broker'] = [kafka.pid];
    } else {
      env.SWITCHYARD_BUS = 'postgres';
    }

    say(`${bus}: starting Switchyard (apps/server/src/main.ts start, SWITCHYARD_BUS=${bus})`);
    const { child, url } = await startServer(env);
    cleanup.push(async () => {
      const status = await stopServer(child);
      if (status.code !== 0)
        failures.push(`${bus}: switchyard exited with code ${status.code}, signal ${status.signal}`);
    });
    if (child.process.pid !== undefined) cpuPids['switchyard server'] = [child.process.pid];
    say(`${bus}: Switchyard listens on ${url}`);
    const auth = await apiKeyHeaders(url, identity);
    say(`${bus}: signed in as the first admin and created an operator API key for the load`);

    const client = new pg.Client({ connectionString: db.url, application_name: 'switchyard-bench' });
    await client.connect();
    cleanup.push(() => client.end());
    const postgres =
      (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v.split(
        ' ',
      )[0] ?? '?';

    say(`${bus}: warm-up ${WARMUP_SECONDS} s of single ingest`);
    const warmup = await load(singleLoad(url, WARMUP_SECONDS, options.connections, options.users), auth);
    if (warmup.non2xx > 0 || warmup.errors > 0) {
      failures.push(`${bus} warm-up: ${warmup.non2xx} non-2xx responses, ${warmup.errors} errors`);
    }
    const warmupAccepted = await settledAccepted(client);
    await catchUp(client, 0, warmupAccepted, performance.now(), options.drainTimeoutMs);

    const phases: Phase[] = [];
    const measure = async (name: PhaseName, description: string, loadOptions: autocannon.Options) => {
      checkInterrupted();
      const seq = await lastSeq(client);
      const acceptedBefore = await countAccepted(client);
      say(`${bus}: ${name}: ${description}`);
      const cpu = await measureCpu({ pids: cpuPids, database: db.name });
      const startedAt = Date.now();
      const result = await load(loadOptions, auth);
      const ended = performance.now();
      const acceptedAtEnd = await countAccepted(client);
      const processedAtEnd = await countProcessedAfter(client, seq);
      const accepted = (await settledAccepted(client)) - acceptedBefore;
      say(`${bus}: ${name}: ${accepted} events accepted; waiting for the consumer`);
      const catchUpMs = await catchUp(client, seq, accepted, ended, options.drainTimeoutMs);
      const cpuUse = await cpu.stop();
      const stats = await phaseStats(client, seq, startedAt);
      if (catchUpMs === null)
        failures.push(`${bus} ${name}: ${stats.processed} of ${accepted} events processed`);
      if (result.non2xx > 0 || result.errors > 0) {
        failures.push(`${bus} ${name}: ${result.non2xx} non-2xx responses, ${result.errors} errors`);
      }
      const visible = await servedByApi(url, auth, client, stats.maxSeq);
      if (!visible)
        failures.push(`${bus} ${name}: the last processed event is not served by GET /events/processed`);
      phases.push({
        bus,
        name,
        load: description,
        result,
        accepted,
        acceptedPerSecond: accepted / result.duration,
        backlogAtEnd: acceptedAtEnd - acceptedBefore - processedAtEnd,
        catchUpMs,
        processed: stats.processed,
        endToEndPerSecond: stats.endToEndPerSecond,
        latency: stats.latency,
        visible,
        cpu: cpuUse,
      });
      say(
        `${bus}: ${name}: ${fixed(stats.endToEndPerSecond)} events/s end to end, p99 ${fixed(stats.latency.p99)} ms`,
      );
    };

    await measure(
      'single',
      `POST /events/generate, ${options.connections} connections, ${options.durationSeconds} s`,
      singleLoad(url, options.durationSeconds, options.connections, options.users),
    );
    await measure(
      'batch',
      `POST /api/v1/activity/events:batch, ${options.batchRequests} x ${options.batchSize} events, ` +
        `${options.batchConnections} connections`,
      batchLoad(url, options.batchSize, options.batchConnections, options.users, {
        amount: options.batchRequests,
      }),
    );
    if (options.pacedRate > 0) {
      const requestsPerSecond = options.pacedRate / options.batchSize;
      await measure(
        'paced batch',
        `POST /api/v1/activity/events:batch, ${fixed(requestsPerSecond, 1)} requests/s of ${options.batchSize} ` +
          `(${fixed(options.pacedRate)} events/s offered), ${options.pacedSeconds} s`,
        batchLoad(url, options.batchSize, options.batchConnections, options.users, {
          seconds: options.pacedSeconds,
          requestsPerSecond,
        }),
      );
    }
    return {
      bus,
      postgres,
      phases,
      logLines: child.logLines,
      errorLines: child.errorLines,
      partitions: bus === 'kafka' ? (options.partitions ?? SERVER_DEFAULT_PARTITIONS) : undefined,
    };
  } finally {
    for (const step of cleanup.reverse()) {
      await step().catch((error: unknown) => failures.push(`${bus} cleanup: ${(error as Error).message}`));
    }
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

/**
 * A group below zero lost a process during the window (an idle pool connection closed, say): its CPU time
 * left /proc with it, so that group reads low and "other processes" high by as much.
 */
function cpuParts(cpu: CpuUse): string {
  const parts = cpu.byGroup.map((group) => `${group.name} ${fixed(group.cores, 2)}`).join(', ');
  const exited = cpu.byGroup.some((group) => group.cores < 0);
  return exited ? `${parts} (a process exited during the window: groups are lower bounds)` : parts;
}

function printReport(options: Options, ceiling: ProducerPerformanceResult | undefined, runs: BusRun[]): void {
  const labels = [
    'events accepted',
    'accepted events/s (during load)',
    'requests/s',
    'request latency p50 / p99 (ms)',
    'backlog when load stopped',
    'catch-up after load (s)',
    'events/s end to end',
    'accept -> processed p50 (ms)',
    'accept -> processed p95 (ms)',
    'accept -> processed p99 (ms)',
    'accept -> processed max (ms)',
  ];
  const columns: { title: string; cells: Map<string, string> }[] = [];
  if (ceiling) {
    columns.push({
      title: 'ceiling: ProducerPerformance',
      cells: new Map([
        ['events accepted', fixed(ceiling.records)],
        ['accepted events/s (during load)', `${fixed(ceiling.recordsPerSecond)} (sent)`],
        ['events/s end to end', `${fixed(ceiling.recordsPerSecond)} (sent)`],
        ['accept -> processed p50 (ms)', `${fixed(ceiling.p50Ms)} (ack)`],
        ['accept -> processed p95 (ms)', `${fixed(ceiling.p95Ms)} (ack)`],
        ['accept -> processed p99 (ms)', `${fixed(ceiling.p99Ms)} (ack)`],
        ['accept -> processed max (ms)', `${fixed(ceiling.maxMs)} (ack)`],
      ]),
    });
  }
  for (const run of runs) {
    for (const phase of run.phases) {
      columns.push({
        title: `${run.bus} ${phase.name}`,
        cells: new Map([
          ['events accepted', fixed(phase.accepted)],
          ['accepted events/s (during load)', fixed(phase.acceptedPerSecond)],
          ['requests/s', fixed(phase.result.requests.mean, phase.result.requests.mean < 100 ? 1 : 0)],
          [
            'request latency p50 / p99 (ms)',
            `${fixed(phase.result.latency.p50)} / ${fixed(phase.result.latency.p99)}`,
          ],
          ['backlog when load stopped', fixed(phase.backlogAtEnd)],
          [
            'catch-up after load (s)',
            phase.catchUpMs === null ? 'gave up' : fixed(phase.catchUpMs / 1000, 2),
          ],
          ['events/s end to end', fixed(phase.endToEndPerSecond)],
          ['accept -> processed p50 (ms)', fixed(phase.latency.p50)],
          ['accept -> processed p95 (ms)', fixed(phase.latency.p95)],
          ['accept -> processed p99 (ms)', fixed(phase.latency.p99)],
          ['accept -> processed max (ms)', fixed(phase.latency.max)],
        ]),
      });
    }
  }
  const rows = labels.map((label) => [label, ...columns.map((column) => column.cells.get(label) ?? '-')]);
  const headers = ['', ...columns.map((column) => column.title)];
  const widths = headers.map((_, i) => Math.max(...[headers, ...rows].map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  const cpu = cpus();
  const kafkaRun = runs.find((run) => run.bus === 'kafka');
  const out: string[] = [
    '',
    `activity events through apps/server: single ingest ${options.connections} connections ${options.durationSeconds} s, ` +
      `batch ${options.batchRequests} x ${options.batchSize} events on ${options.batchConnections} connections` +
      (options.pacedRate > 0
        ? `, paced batch ${fixed(options.pacedRate)} events/s for ${options.pacedSeconds} s`
        : '') +
      `, ${fixed(options.users)} users`,
    `node ${process.version}, ${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown CPU'}, PostgreSQL ${runs[0]?.postgres ?? '?'} ` +
      `(machine, 127.0.0.1:5432)${kafkaRun ? `, Kafka topic partitions ${kafkaRun.partitions}` : ''}`,
    `load average (1, 5, 15 min) at start ${startLoad}, at end ${loadAverage()}`,
    `code: ${startVersion} at start, ${codeVersion()} at end`,
    '',
    line(headers),
    line(headers.map((header, i) => (i === 0 ? '' : '-'.repeat(widths[i] ?? header.length)))),
    ...rows.map(line),
    '',
  ];
  if (ceiling) {
    out.push(`ceiling command: ${ceiling.command}`);
    const parts = ceiling.cpu ? cpuParts(ceiling.cpu) : undefined;
    if (parts) out.push(`cpu during ProducerPerformance, in cores (of ${ceiling.cpu?.cores}): ${parts}`);
  }
  for (const run of runs) {
    for (const phase of run.phases) {
      const parts = phase.cpu ? cpuParts(phase.cpu) : undefined;
      if (parts) {
        out.push(
          `cpu during ${run.bus} ${phase.name} (load + catch-up), in cores (of ${phase.cpu?.cores}): ` +
            `busy ${fixed(phase.cpu?.busy ?? 0, 2)}: ${parts}`,
        );
      }
    }
    out.push(
      `${run.bus}: switchyard log lines ${fixed(run.logLines)}, of which error/fatal ${run.errorLines.length}`,
    );
    for (const errorLine of run.errorLines.slice(0, 5)) out.push(`  ${errorLine.slice(0, 300)}`);
  }
  out.push('');
  for (const run of runs) {
    for (const phase of run.phases) {
      if (phase.name === 'single') continue;
      const p99Met = phase.latency.p99 < AIM_P99_MS;
      const judged = run.bus === 'kafka' ? 'aim' : 'for comparison';
      // A paced run offers less than the aim: its rate says what was offered, not what the path can do.
      const rate =
        phase.name === 'paced batch' && options.pacedRate < AIM_EVENTS_PER_SECOND
          ? `not judged (${fixed(options.pacedRate)} events/s offered; ${fixed(phase.endToEndPerSecond)} end to end)`
          : `${phase.endToEndPerSecond >= AIM_EVENTS_PER_SECOND ? 'MET' : 'NOT MET'} (${fixed(phase.endToEndPerSecond)})`;
      out.push(
        `${judged} (${run.bus} ${phase.name}): >= ${fixed(AIM_EVENTS_PER_SECOND)} events/s end to end: ${rate}; ` +
          `p99 accept -> processed < ${fixed(AIM_P99_MS)} ms: ${p99Met ? 'MET' : 'NOT MET'} (${fixed(phase.latency.p99)} ms)`,
      );
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

// ---- main --------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) return 0;
  process.on('SIGINT', () => {
    interrupted = true;
    running?.stop();
  });
  const failures: string[] = [];
  const runs: BusRun[] = [];
  let ceiling: ProducerPerformanceResult | undefined;
  let kafka: BenchKafka | undefined;
  try {
    if (options.buses.includes('kafka') || options.ceilingRecords > 0) {
      say(options.kafka ? `Kafka at ${options.kafka}` : 'starting a Kafka broker of its own (scripts/kafka)');
      kafka = await benchKafka(options.kafka);
      say(`Kafka listens on ${kafka.brokers}`);
    }
    if (kafka && options.ceilingRecords > 0) {
      ceiling = await producerPerformance({
        brokers: kafka.brokers,
        topic: `bench-perf-${randomBytes(4).toString('hex')}`,
        partitions: options.partitions ?? SERVER_DEFAULT_PARTITIONS,
        numRecords: options.ceilingRecords,
        recordSize: CEILING_RECORD_BYTES,
        brokerPid: kafka.pid,
        say,
      });
      say(`ProducerPerformance: ${fixed(ceiling.recordsPerSecond)} records/s`);
    }
    for (const bus of options.buses) {
      checkInterrupted();
      try {
        runs.push(await runBus(bus, options, kafka, failures));
      } catch (error) {
        failures.push(`${bus}: ${error instanceof Error ? error.message : String(error)}`);
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
  printReport(options, ceiling, runs);
  if (failures.length > 0) {
    process.stdout.write(`\nFAILED:\n${failures.map((failure) => `  - ${failure}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();

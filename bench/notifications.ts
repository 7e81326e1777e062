// Benchmark of the notification pipeline: how many `POST /api/v1/notifications` the server accepts, next
// to a bare Fastify route answering 202 (phase A), and how fast and how late accepted email notifications
// reach a real SMTP server at a sustained rate (phase B). The server (apps/server, all services, on the
// PostgreSQL bus) and the SMTP sink each run in a child process; the load generators run in this one.
//
//   npm run bench:notifications [-- --duration <s>] [-- --e2e-seconds <s>] [-- --embedded] [...]
//
// Phase A: a 2 s warm-up, then autocannon for --duration seconds (50 connections) against the bare route
// (bench/bare-server.ts, `POST /bare-202`), then against Switchyard with an operator API key; one email
// recipient per request, 1,000 different addresses in turn. The mail the warm-up and the run cause is
// delivered before phase B starts (the time that takes is reported: the pipeline's rate with a backlog).
// Phase B: an open-loop sender (bench/notifications-pacer.ts) posts --rate requests/s for --e2e-seconds;
// each subject carries the request's sequence number and send time, the sink notes when each message
// arrived, and the bench waits (up to --e2e-wait seconds) until every accepted notification's mail has.
// Then it reads, from PostgreSQL, where each notification's time went (bench/notifications-profile.ts).
//
// Exit status: 0 when the run completed (whether or not the aims were met), 1 when something broke: a
// server did not start or stop cleanly, a response was not 2xx, a connection failed, or accepted
// notifications never reached the SMTP server (late mail, after --e2e-wait but within --late-wait, is
// reported and misses the aims, but is not a failure).
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { type Child, pidsOf, ROOT, startChild, stopChild } from './child.ts';
import { codeVersion } from './code-version.ts';
import { type CpuUse, measureCpu } from './cpu.ts';
import { apiKeyHeaders, identityEnv, newBenchIdentity } from './identity.ts';
import { type PacedResult, pacedLoad } from './notifications-pacer.ts';
import {
  counterDelta,
  type DatabaseCounters,
  databaseCounters,
  type GroupPasses,
  groupBacklog,
  histogramDelta,
  type Percentiles,
  parseMetrics,
  passes,
  percentiles,
  type SessionSample,
  sampleDuringLoad,
  type Timeline,
  timelines,
  writeCounts,
} from './notifications-profile.ts';
import { type PhaseArrivals, type SinkCounts, startBenchSink } from './notifications-sink.ts';

const SERVER_MAIN = join(ROOT, 'apps', 'server', 'src', 'main.ts');
const BARE_SERVER = join(ROOT, 'bench', 'bare-server.ts');
const SINK_SERVER = join(ROOT, 'bench', 'notifications-sink-server.ts');
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const PATH = '/api/v1/notifications';

const WARMUP_SECONDS = 2;
/** Different recipient addresses, in turn: one person's mail is sent in order, so it must not be one person. */
const RECIPIENTS = 1000;
/** Keep-alive connections of the paced sender (enough for 500/s at 200 ms each). */
const PACED_CONNECTIONS = 100;
const PACED_TIMEOUT_MS = 30_000;
/** After phase B's mail has arrived, how long to let the status consumer finish (for the timelines). */
const STATUS_SETTLE_MS = 30_000;
const POLL_MS = 250;
/** Statuses read back through GET /api/v1/notifications/{id}: some delivered, and every missing one up to this. */
const STATUS_SAMPLE_DELIVERED = 20;
const STATUS_SAMPLE_MISSING = 50;

const AIM_ACCEPTED_PER_SECOND = 3000;
const AIM_API_P99_MS = 50;
const AIM_E2E_P99_MS = 2000;
/** Source C's table: 1,000+ notifications a minute, API < 100 ms, email < 5 s, > 99.5 % success. */
const FLOOR_PER_MINUTE = 1000;
const FLOOR_API_MS = 100;
const FLOOR_EMAIL_MS = 5000;
const FLOOR_SUCCESS = 0.995;
/** Processes of these benches skew the figures on two cores: wait until none runs. */
const OTHER_BENCH = /bench\/(auth|tasks|activity|bus)\.ts/;

const USAGE = `Usage: npm run bench:notifications -- [options]

  --duration <s>        phase A: length of each measured autocannon run (default 10), after a ${WARMUP_SECONDS} s warm-up
  --connections <n>     phase A: autocannon connections (default 50)
  --e2e-seconds <s>     phase B: length of the paced load (default 60)
  --rate <n>            phase B: requests per second (default 500)
  --e2e-wait <s>        phase B: how long to wait after the load for the last mail (default 120)
  --late-wait <s>       phase B: if some mail is missing after --e2e-wait, wait up to <s> seconds more
                        (default 300) to tell late mail (not counted as delivered) from lost mail
  --drain-timeout <s>   how long to wait for phase A's mail before phase B (default 600)
  --embedded            run Switchyard on its embedded PostgreSQL (in a temporary SWITCHYARD_DATA_DIR)
                        instead of a fresh database on ${ADMIN_URL}
  --sink <where>        child (default): the SMTP sink in a process of its own; inline: in this one
  --cpu-prof <dir>      write a V8 CPU profile of the Switchyard server (node --cpu-prof) into <dir>
  --wait-others <s>     before each measured phase, wait up to <s> seconds (default 3600) while another
                        bench (bench/auth, tasks, activity, bus) runs
`;

interface Options {
  durationSeconds: number;
  connections: number;
  e2eSeconds: number;
  rate: number;
  e2eWaitSeconds: number;
  drainTimeoutSeconds: number;
  lateWaitSeconds: number;
  embedded: boolean;
  sink: 'child' | 'inline';
  cpuProfDir: string | undefined;
  waitOthersSeconds: number;
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
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '50' },
      'e2e-seconds': { type: 'string', default: '60' },
      rate: { type: 'string', default: '500' },
      'e2e-wait': { type: 'string', default: '120' },
      'drain-timeout': { type: 'string', default: '600' },
      'late-wait': { type: 'string', default: '300' },
      embedded: { type: 'boolean', default: false },
      sink: { type: 'string', default: 'child' },
      'cpu-prof': { type: 'string' },
      'wait-others': { type: 'string', default: '3600' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return null;
  }
  if (values.sink !== 'child' && values.sink !== 'inline') {
    throw new BenchError(`--sink: expected child or inline, got ${values.sink}`);
  }
  return {
    durationSeconds: whole('duration', values.duration, 1, 600),
    connections: whole('connections', values.connections, 1, 1000),
    e2eSeconds: whole('e2e-seconds', values['e2e-seconds'], 1, 3600),
    rate: whole('rate', values.rate, 1, 20_000),
    e2eWaitSeconds: whole('e2e-wait', values['e2e-wait'], 1, 3600),
    drainTimeoutSeconds: whole('drain-timeout', values['drain-timeout'], 1, 7200),
    lateWaitSeconds: whole('late-wait', values['late-wait'], 0, 7200),
    embedded: values.embedded,
    sink: values.sink,
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']),
    waitOthersSeconds: whole('wait-others', values['wait-others'], 0, 86_400),
  };
}

function checkInterrupted(): void {
  if (interrupted) throw new BenchError('interrupted');
}

function loadAverage(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

function fixed(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

// ---- other benches -----------------------------------------------------------------------------------------

/** Command lines of the other benches running now (read from /proc; none where there is no /proc). */
async function otherBenches(): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const command = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
    if (OTHER_BENCH.test(command)) found.push(`${entry} ${command.trim()}`);
  }
  return found;
}

interface Quiet {
  label: string;
  /** Seconds waited for other benches to end. */
  waited: number;
  /** Other benches still running when the phase started anyway. */
  stillRunning: string[];
  /** Load average (1, 5, 15 min) when the phase started. */
  load: string;
}

async function waitForOtherBenches(label: string, options: Options): Promise<Quiet> {
  const started = performance.now();
  let others = await otherBenches();
  if (others.length > 0) say(`${label}: waiting while another bench runs: ${others.join('; ')}`);
  while (others.length > 0 && performance.now() - started < options.waitOthersSeconds * 1000) {
    checkInterrupted();
    await sleep(5_000);
    others = await otherBenches();
  }
  const waited = (performance.now() - started) / 1000;
  if (others.length > 0) say(`${label}: other benches still run after ${fixed(waited)} s; measuring anyway`);
  else if (waited > 1) {
    // Let the machine settle after the other bench (its PostgreSQL work, its children exiting).
    await sleep(5_000);
  }
  return { label, waited, stillRunning: others, load: loadAverage() };
}

// ---- the SMTP sink -----------------------------------------------------------------------------------------

interface SinkHandle {
  url: string;
  /** The sink's process when it has one of its own. */
  child: Child | undefined;
  counts(): Promise<SinkCounts>;
  arrivals(phase: string): Promise<PhaseArrivals>;
  stop(): Promise<void>;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new BenchError(`GET ${url}: ${response.status}`);
  return (await response.json()) as T;
}

async function startSink(options: Options, failures: string[]): Promise<SinkHandle> {
  if (options.sink === 'inline') {
    const sink = await startBenchSink();
    return {
      url: sink.url,
      child: undefined,
      counts: async () => sink.counts(),
      arrivals: async (phase) => sink.arrivals(phase),
      stop: () => sink.close(),
    };
  }
  const { child, value } = await startChild({
    name: 'smtp sink',
    args: [SINK_SERVER],
    env: process.env,
    ready: (entry) =>
      entry.msg === 'bench sink ready' && typeof entry.smtp === 'string' && typeof entry.control === 'string'
        ? { smtp: entry.smtp, control: entry.control }
        : undefined,
  });
  return {
    url: value.smtp,
    child,
    counts: () => getJson<SinkCounts>(`${value.control}/counts`),
    arrivals: (phase) => getJson<PhaseArrivals>(`${value.control}/arrivals?phase=${phase}`),
    async stop() {
      const status = await stopChild(child, say);
      if (status.code !== 0)
        failures.push(`smtp sink exited with code ${status.code}, signal ${status.signal}`);
    },
  };
}

// ---- load --------------------------------------------------------------------------------------------------

/** A one-recipient email notification; the subject names the phase, the request's seq and its send time. */
function notificationBody(phase: string, seq: number, sentAt: number): string {
  return JSON.stringify({
    recipients: [{ email: `r${seq % RECIPIENTS}@bench.switchyard.test` }],
    channels: ['email'],
    content: { subject: `sy-bench ${phase} ${seq} ${sentAt}`, text: 'Sent by bench/notifications.' },
  });
}

/** autocannon POSTs for `seconds`, each with the next seq of `phase` (the bare route gets the same bodies). */
async function blast(
  url: string,
  seconds: number,
  connections: number,
  phase: string,
  headers: Record<string, string> = {},
): Promise<autocannon.Result> {
  checkInterrupted();
  let seq = 0;
  const instance = autocannon({
    url,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    requests: [
      {
        setupRequest: (request) => {
          const body = notificationBody(phase, seq, Date.now());
          seq += 1;
          return { ...request, body };
        },
      },
    ],
  });
  running = instance;
  try {
    return await instance;
  } finally {
    running = undefined;
  }
}

function checkLoad(name: string, result: autocannon.Result, failures: string[]): void {
  if (result.non2xx > 0) {
    const codes = Object.entries(result.statusCodeStats)
      .filter(([code]) => !code.startsWith('2'))
      .map(([code, stats]) => `${code} x${stats.count}`)
      .join(', ');
    failures.push(`${name}: ${result.non2xx} non-2xx responses (${codes})`);
  }
  if (result.errors > 0) failures.push(`${name}: ${result.errors} connection errors`);
  if (result['2xx'] === 0) failures.push(`${name}: no successful response at all`);
}

// ---- figures -----------------------------------------------------------------------------------------------

interface Throughput {
  result: autocannon.Result;
  cpu: CpuUse | undefined;
  quiet: Quiet;
}

interface PhaseA extends Throughput {
  sessions: SessionSample;
  /** Mail of the warm-up and this run, delivered after it: how many, and how long that took. */
  drain: Drain;
}

interface Drain {
  mails: number;
  /** From the end of the load until the last mail arrived and no delivery was pending; null: gave up. */
  ms: number | null;
  pendingAtGiveUp: number;
}

interface PhaseB {
  quiet: Quiet;
  paced: PacedResult;
  cpu: CpuUse | undefined;
  sessions: SessionSample;
  /** This process's event-loop delay during the load, ms (the sender's own timing). */
  loopDelay: { p50: number; p99: number; max: number };
  accepted: number;
  /** Arrived within --e2e-wait of the end of the load. */
  delivered: number;
  /** Arrived later (within --late-wait more), and never. */
  late: number;
  lost: number;
  /** Mail that arrived for requests that got no 2xx (cut off or failed). */
  deliveredWithout202: number;
  duplicates: number;
  /** Send (subject time) → the SMTP server had it, and 202 → the SMTP server had it, ms; late mail included. */
  sendToReceived: Percentiles;
  answerToReceived: Percentiles;
  /** Delivered / (last arrival − first send), per second. */
  deliveryRate: number;
  /** Mail received per whole second of the load, from second 5 on (a steady state). */
  perSecond: { mean: number; min: number; max: number };
  /** Accepted but not arrived when the load ended; time from the last send to the last arrival. */
  backlogAtEnd: number;
  catchUpMs: number;
  /** From the end of the load until the last accepted mail arrived; null: not within --e2e-wait. */
  waitedMs: number | null;
  stages: { label: string; values: Percentiles }[];
  passes: GroupPasses[];
  /** pg_stat_database of Switchyard's database from before the load until the pipeline was done. */
  counters: DatabaseCounters | undefined;
  /** From the server's /metrics, between a scrape before the load and one after the pipeline was done. */
  metrics: {
    smtpSend: { count: number; mean: number; p50: number; p99: number };
    serverLatency: { count: number; mean: number; p50: number; p99: number };
    eventLoopLagP99: number;
    cpuSeconds: number;
  };
  writes: Record<string, number>;
  statusSample: Record<string, number>;
  statusNotes: string[];
}

interface Report {
  options: Options;
  postgres: string | undefined;
  postgresSettings: string | undefined;
  baseline: Throughput | undefined;
  phaseA: PhaseA | undefined;
  phaseB: PhaseB | undefined;
  sinkPlace: string;
  serverLogLines: number;
  serverErrors: string[];
}

// ---- the run -----------------------------------------------------------------------------------------------

async function benchBaseline(options: Options, failures: string[]): Promise<Throughput> {
  const quiet = await waitForOtherBenches('baseline', options);
  say('starting the baseline (bench/bare-server.ts) in a child process');
  const { child, value: port } = await startChild({
    name: 'bare server',
    args: [BARE_SERVER],
    env: process.env,
    ready: (entry) => (typeof entry.port === 'number' ? entry.port : undefined),
  });
  try {
    const url = `http://127.0.0.1:${port}/bare-202`;
    say(`baseline: warm-up ${WARMUP_SECONDS} s against ${url}`);
    await blast(url, WARMUP_SECONDS, options.connections, 'X');
    say(`baseline: measuring ${options.durationSeconds} s with ${options.connections} connections`);
    const cpu = await measureCpu({ pids: { 'bench (load)': [process.pid], 'bare server': pidsOf(child) } });
    const result = await blast(url, options.durationSeconds, options.connections, 'X');
    const use = await cpu.stop();
    checkLoad('baseline', result, failures);
    say(`baseline: ${fixed(result.requests.mean)} requests/s, p99 ${fixed(result.latency.p99)} ms`);
    return { result, cpu: use, quiet };
  } finally {
    const status = await stopChild(child, say);
    if (status.code !== 0)
      failures.push(`bare server exited with code ${status.code}, signal ${status.signal}`);
  }
}

async function count(client: pg.Client, sql: string): Promise<number> {
  const result = await client.query<{ n: number }>(sql);
  return result.rows[0]?.n ?? Number.NaN;
}

/**
 * Waits until no delivery is pending, the sink has as many bench mails as deliveries were sent, and every
 * consumer group of the topic has read to its end; bounded by `timeoutMs`. Returns the mails of `phase`
 * that arrived.
 */
async function drainPipeline(
  client: pg.Client,
  sink: SinkHandle,
  phase: string,
  since: number,
  timeoutMs: number,
): Promise<Drain> {
  let pending = 0;
  let mails = 0;
  let lastProgress = performance.now();
  while (performance.now() - since < timeoutMs) {
    checkInterrupted();
    pending = await count(
      client,
      "SELECT count(*)::int AS n FROM notifications.deliveries WHERE status = 'pending'",
    );
    const sent = await count(
      client,
      "SELECT count(*)::int AS n FROM notifications.deliveries WHERE status IN ('sent', 'delivered')",
    );
    const counts = await sink.counts();
    const all = Object.values(counts.phases).reduce((sum, counted) => sum + counted.received, 0);
    mails = counts.phases[phase]?.received ?? 0;
    if (pending === 0 && all >= sent) {
      // Every consumer group of the topic at its end too (those that only pass over these events as well).
      const behind = Object.values(await groupBacklog(client)).reduce((a, b) => a + b, 0);
      if (behind === 0) return { mails, ms: performance.now() - since, pendingAtGiveUp: 0 };
    }
    if (performance.now() - lastProgress > 10_000) {
      lastProgress = performance.now();
      say(
        `  ${fixed(mails)} mails arrived, ${fixed(pending)} deliveries pending: ${await pendingDetail(client)}`,
      );
    }
    await sleep(POLL_MS);
  }
  return { mails, ms: null, pendingAtGiveUp: pending };
}

/** Where pending deliveries stand: queued to the workers or not, and the send ledger's state. */
async function pendingDetail(client: pg.Client): Promise<string> {
  const result = await client.query<{ queued: boolean; state: string | null; n: number }>(
    `SELECT d.queued_at IS NOT NULL AS queued, s.state, count(*)::int AS n
       FROM notifications.deliveries d LEFT JOIN delivery.sends s ON s.delivery_id = d.id
      WHERE d.status = 'pending' GROUP BY 1, 2 ORDER BY 3 DESC`,
  );
  return result.rows
    .map((row) => `${row.queued ? 'queued' : 'not queued'}, ledger ${row.state ?? 'none'}: ${fixed(row.n)}`)
    .join('; ');
}

interface Switchyard {
  url: string;
  auth: Record<string, string>;
  client: pg.Client;
  sampler: pg.Client;
  databaseName: string;
  postgres: string;
  /** Settings of that PostgreSQL that change these figures. */
  settings: string;
  child: Child;
}

async function startSwitchyard(
  options: Options,
  sink: SinkHandle,
  cleanup: (() => Promise<unknown>)[],
  failures: string[],
): Promise<Switchyard> {
  const identity = newBenchIdentity();
  const env: NodeJS.ProcessEnv = {
    ...identityEnv(process.env, identity),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    SMTP_URL: sink.url,
  };
  for (const name of [
    'DATABASE_URL',
    'SWITCHYARD_DATA_DIR',
    'SWITCHYARD_SERVICES',
    'SWITCHYARD_BUS',
    'NODE_ENV',
    'SMTP_FALLBACK_URL',
  ]) {
    delete env[name];
  }
  let databaseUrl: string | undefined;
  let databaseName = 'switchyard';
  let dataDir: string | undefined;
  if (options.embedded) {
    dataDir = await mkdtemp(join(tmpdir(), 'switchyard-bench-'));
    const dir = dataDir;
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    env.SWITCHYARD_DATA_DIR = dataDir;
    say(`embedded PostgreSQL in ${dataDir}`);
  } else {
    const database = `switchyard_bench_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL, application_name: 'switchyard-bench' });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`).finally(() => admin.end());
    cleanup.push(async () => {
      const dropper = new pg.Client({ connectionString: ADMIN_URL, application_name: 'switchyard-bench' });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).finally(() => dropper.end());
      say(`dropped database ${database}`);
    });
    databaseUrl = `postgres://postgres@127.0.0.1:5432/${database}`;
    databaseName = database;
    env.DATABASE_URL = databaseUrl;
    say(`created database ${database}`);
  }

  let nodeArgs: string[] = [];
  if (options.cpuProfDir) {
    await mkdir(options.cpuProfDir, { recursive: true });
    nodeArgs = [
      '--cpu-prof',
      // Node's default names carry the thread id: the consumer thread writes a profile of its own.
      `--cpu-prof-dir=${options.cpuProfDir}`,
    ];
  }
  say(`starting Switchyard (apps/server/src/main.ts start, SMTP_URL ${sink.url})`);
  let embeddedPort: number | undefined;
  const { child, value: url } = await startChild({
    name: 'switchyard',
    args: [SERVER_MAIN, 'start'],
    env,
    nodeArgs,
    ready: (entry) => {
      if (entry.msg === 'embedded PostgreSQL ready' && typeof entry.port === 'number') {
        embeddedPort = entry.port;
      }
      return entry.msg === 'switchyard started' && typeof entry.url === 'string' ? entry.url : undefined;
    },
  });
  cleanup.push(async () => {
    const status = await stopChild(child, say);
    if (status.code !== 0) {
      failures.push(`switchyard exited with code ${status.code}, signal ${status.signal} after SIGTERM`);
    }
  });
  say(`Switchyard listens on ${url}`);
  const auth = await apiKeyHeaders(url, identity, 'operator');
  say('signed in as the first admin and created an operator API key for the load');

  if (dataDir !== undefined) {
    if (embeddedPort === undefined) throw new BenchError('no "embedded PostgreSQL ready" line with a port');
    const password = (await readFile(join(dataDir, 'postgres.password'), 'utf8')).trim();
    databaseUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${embeddedPort}/switchyard`;
  }
  const connect = async () => {
    const client = new pg.Client({ connectionString: databaseUrl, application_name: 'switchyard-bench' });
    await client.connect();
    cleanup.push(() => client.end());
    return client;
  };
  const client = await connect();
  const sampler = await connect();
  const postgres =
    (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v.split(
      ' ',
    )[0] ?? '?';
  const settings = (
    await client.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings
        WHERE name IN ('autovacuum', 'fsync', 'synchronous_commit', 'shared_buffers', 'commit_delay') ORDER BY name`,
    )
  ).rows
    .map((row) => `${row.name}=${row.setting}${row.unit ? ` (${row.unit})` : ''}`)
    .join(', ');
  return { url, auth, client, sampler, databaseName, postgres, settings, child };
}

async function runPhaseA(
  options: Options,
  sy: Switchyard,
  sink: SinkHandle,
  failures: string[],
): Promise<PhaseA> {
  const target = `${sy.url}${PATH}`;
  const warmupQuiet = await waitForOtherBenches('phase A warm-up', options);
  say(`phase A: warm-up ${WARMUP_SECONDS} s against ${target}`);
  const warmup = await blast(target, WARMUP_SECONDS, options.connections, 'W', sy.auth);
  checkLoad('phase A warm-up', warmup, failures);
  say('phase A: delivering the warm-up mail first');
  const warmupDrain = await drainPipeline(
    sy.client,
    sink,
    'W',
    performance.now(),
    options.drainTimeoutSeconds * 1000,
  );
  if (warmupDrain.ms === null)
    say(`warning: warm-up mail not all delivered (${warmupDrain.pendingAtGiveUp} pending)`);

  const quiet = warmupQuiet.waited > 1 ? await waitForOtherBenches('phase A', options) : warmupQuiet;
  say(`phase A: measuring ${options.durationSeconds} s with ${options.connections} connections`);
  const cpu = await measureCpu({
    pids: {
      'bench (load)': [process.pid],
      switchyard: pidsOf(sy.child),
      ...(sink.child ? { 'smtp sink': pidsOf(sink.child) } : {}),
    },
    database: sy.databaseName,
  });
  const sampler = sampleDuringLoad(sy.sampler);
  const result = await blast(target, options.durationSeconds, options.connections, 'A', sy.auth).finally(() =>
    sampler.stop(),
  );
  const ended = performance.now();
  const use = await cpu.stop();
  const sessions = await sampler.done;
  checkLoad('phase A (switchyard)', result, failures);
  say(
    `phase A: ${fixed(result['2xx'] / result.duration)} accepted/s, p99 ${fixed(result.latency.p99)} ms; ` +
      'delivering its mail before phase B',
  );
  const drain = await drainPipeline(sy.client, sink, 'A', ended, options.drainTimeoutSeconds * 1000);
  if (drain.ms === null) {
    failures.push(
      `phase A: ${drain.pendingAtGiveUp} deliveries still pending ${options.drainTimeoutSeconds} s after the load`,
    );
  } else say(`phase A: ${fixed(drain.mails)} mails delivered ${fixed(drain.ms / 1000, 1)} s after the load`);
  return { result, cpu: use, quiet, sessions, drain };
}

async function runPhaseB(
  options: Options,
  sy: Switchyard,
  sink: SinkHandle,
  failures: string[],
): Promise<PhaseB> {
  const quiet = await waitForOtherBenches('phase B', options);
  const metricsBefore = await scrape(sy);
  const countersBefore = await databaseCounters(sy.client).catch(() => undefined);
  const startedAt = Date.now();
  say(
    `phase B: ${options.rate} requests/s for ${options.e2eSeconds} s (open loop, up to ${PACED_CONNECTIONS} connections)`,
  );
  const cpu = await measureCpu({
    pids: {
      'bench (load)': [process.pid],
      switchyard: pidsOf(sy.child),
      ...(sink.child ? { 'smtp sink': pidsOf(sink.child) } : {}),
    },
    database: sy.databaseName,
  });
  const sampler = sampleDuringLoad(sy.sampler);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const paced = await pacedLoad({
    url: sy.url,
    path: PATH,
    headers: sy.auth,
    rate: options.rate,
    seconds: options.e2eSeconds,
    connections: PACED_CONNECTIONS,
    timeoutMs: PACED_TIMEOUT_MS,
    body: (seq, sentAt) => notificationBody('B', seq, sentAt),
    stopped: () => interrupted,
    onSecond: (second, sent, inFlight) => {
      if (second % 10 === 0) say(`  ${second} s: ${fixed(sent)} sent, ${inFlight} in flight`);
    },
  }).finally(() => {
    sampler.stop();
    loop.disable();
  });
  const loadEndedAt = Date.now();
  const use = await cpu.stop();
  const sessions = await sampler.done;
  const receivedAtEnd = (await sink.counts()).phases.B?.received ?? 0;
  const nonOk = Object.entries(paced.statuses).filter(([status]) => !status.startsWith('2'));
  if (nonOk.length > 0) {
    failures.push(
      `phase B: ${nonOk.map(([status, n]) => `${status === '0' ? 'failed' : status} x${n}`).join(', ')}` +
        (paced.errors.length > 0 ? ` (first: ${paced.errors.slice(0, 3).join('; ')})` : ''),
    );
  }
  const accepted = paced.accepted.length;
  say(
    `phase B: sent ${fixed(paced.sent)} at ${fixed(paced.achievedRate, 1)}/s, ${fixed(accepted)} accepted; ` +
      `${fixed(receivedAtEnd)} mails arrived so far; waiting up to ${options.e2eWaitSeconds} s for the rest`,
  );

  const deadline = loadEndedAt + options.e2eWaitSeconds * 1000;
  const waitFor = async (untilMs: number, label: string): Promise<boolean> => {
    let lastShown = performance.now();
    while (Date.now() < untilMs) {
      checkInterrupted();
      const received = (await sink.counts()).phases.B?.received ?? 0;
      if (received >= accepted) return true;
      if (performance.now() - lastShown > 10_000) {
        lastShown = performance.now();
        say(`  ${fixed(received)} of ${fixed(accepted)} mails arrived${label}`);
      }
      await sleep(POLL_MS);
    }
    return false;
  };
  let allArrived = await waitFor(deadline, '');
  const waitedMs = allArrived ? Date.now() - loadEndedAt : null;
  if (!allArrived && options.lateWaitSeconds > 0) {
    say(
      `phase B: not all arrived within ${options.e2eWaitSeconds} s; waiting up to ${options.lateWaitSeconds} s more to tell late from lost`,
    );
    allArrived = await waitFor(Date.now() + options.lateWaitSeconds * 1000, ' (late)');
  }
  const arrivals = await sink.arrivals('B');
  const counts = await sink.counts();
  const arrivalBySeq = new Map<number, { at: number; sentAt: number }>();
  arrivals.seqs.forEach((seq, i) => {
    arrivalBySeq.set(seq, { at: arrivals.at[i] ?? Number.NaN, sentAt: arrivals.sentAt[i] ?? Number.NaN });
  });
  const acceptedSeqs = new Set(paced.accepted.map((entry) => entry.seq));
  const sendToReceived: number[] = [];
  const answerToReceived: number[] = [];
  const lost: typeof paced.accepted = [];
  const lateIds: string[] = [];
  const arrivedIds: string[] = [];
  let delivered = 0;
  let late = 0;
  for (const entry of paced.accepted) {
    const arrival = arrivalBySeq.get(entry.seq);
    if (!arrival) {
      lost.push(entry);
      continue;
    }
    sendToReceived.push(arrival.at - arrival.sentAt);
    answerToReceived.push(arrival.at - entry.answeredAt);
    if (arrival.at <= deadline) {
      delivered += 1;
      arrivedIds.push(entry.requestId);
    } else {
      late += 1;
      lateIds.push(entry.requestId);
    }
  }
  if (lost.length > 0) {
    failures.push(
      `phase B: ${lost.length} of ${accepted} accepted notifications never reached the SMTP server ` +
        `(waited ${options.e2eWaitSeconds + options.lateWaitSeconds} s after the load)`,
    );
  }
  const lastArrival = Math.max(...arrivals.at, Number.NEGATIVE_INFINITY);
  const buckets = new Array<number>(options.e2eSeconds).fill(0);
  for (const at of arrivals.at) {
    const second = Math.floor((at - paced.firstSentAt) / 1000);
    if (second >= 0 && second < buckets.length) buckets[second] = (buckets[second] ?? 0) + 1;
  }
  const steady = buckets.slice(Math.min(5, Math.max(0, buckets.length - 1)));
  const acceptedByEnd = paced.accepted.filter((entry) => entry.answeredAt <= loadEndedAt).length;

  // Let the status consumer record the outcomes, for the timelines (not part of the figures above).
  const settleStarted = performance.now();
  while (performance.now() - settleStarted < STATUS_SETTLE_MS) {
    const pending = await count(
      sy.client,
      "SELECT count(*)::int AS n FROM notifications.deliveries WHERE status = 'pending'",
    );
    if (pending === 0) break;
    await sleep(POLL_MS);
  }
  const metricsAfter = await scrape(sy);
  const countersAfter = await databaseCounters(sy.client).catch(() => undefined);
  say('phase B: reading the pipeline timestamps from PostgreSQL');
  const lines = await timelines(sy.client, startedAt);
  const seqByRequest = new Map(paced.accepted.map((entry) => [entry.requestId, entry.seq]));
  const stages = stageFigures(lines, seqByRequest, arrivalBySeq);
  const groupPasses = await passes(sy.client, startedAt, Math.max(loadEndedAt, lastArrival));
  const writes = await writeCounts(sy.client, startedAt);
  const { sample, notes } = await statusSample(
    sy,
    arrivedIds,
    lateIds,
    lost.map((entry) => entry.requestId),
  );

  return {
    quiet,
    paced,
    cpu: use,
    sessions,
    loopDelay: {
      p50: loop.percentile(50) / 1e6,
      p99: loop.percentile(99) / 1e6,
      max: loop.max / 1e6,
    },
    accepted,
    delivered,
    late,
    lost: lost.length,
    deliveredWithout202: arrivals.seqs.filter((seq) => !acceptedSeqs.has(seq)).length,
    duplicates: counts.phases.B?.duplicates ?? 0,
    sendToReceived: percentiles(sendToReceived),
    answerToReceived: percentiles(answerToReceived),
    deliveryRate:
      sendToReceived.length > 0 && lastArrival > paced.firstSentAt
        ? (sendToReceived.length * 1000) / (lastArrival - paced.firstSentAt)
        : 0,
    perSecond: {
      mean: steady.length === 0 ? 0 : steady.reduce((a, b) => a + b, 0) / steady.length,
      min: Math.min(...steady),
      max: Math.max(...steady),
    },
    backlogAtEnd: Math.max(0, acceptedByEnd - receivedAtEnd),
    catchUpMs: Number.isFinite(lastArrival) ? lastArrival - paced.lastSentAt : Number.NaN,
    waitedMs,
    stages,
    passes: groupPasses,
    counters: countersBefore && countersAfter ? counterDelta(countersBefore, countersAfter) : undefined,
    metrics: {
      smtpSend: histogramDelta(
        metricsBefore,
        metricsAfter,
        'delivery_provider_duration_seconds',
        'channel="email"',
      ),
      serverLatency: histogramDelta(
        metricsBefore,
        metricsAfter,
        'notification_delivery_latency_seconds',
        'channel="email"',
      ),
      eventLoopLagP99: metricsAfter.get('nodejs_eventloop_lag_p99_seconds') ?? Number.NaN,
      cpuSeconds:
        (metricsAfter.get('process_cpu_seconds_total') ?? Number.NaN) -
        (metricsBefore.get('process_cpu_seconds_total') ?? Number.NaN),
    },
    writes,
    statusSample: sample,
    statusNotes: notes,
  };
}

/** The server's /metrics (an operator may read them). */
async function scrape(sy: Switchyard): Promise<Map<string, number>> {
  const response = await fetch(`${sy.url}/metrics`, { headers: sy.auth });
  const text = await response.text();
  if (!response.ok) throw new BenchError(`GET /metrics: ${response.status} ${text.slice(0, 200)}`);
  return parseMetrics(text);
}

/** Per stage of the pipeline, the time each delivered notification spent in it (ms). */
function stageFigures(
  lines: Timeline[],
  seqByRequest: Map<string, number>,
  arrivalBySeq: Map<number, { at: number; sentAt: number }>,
): { label: string; values: Percentiles }[] {
  const stages: { label: string; pick: (line: Timeline, arrival: number) => number | null }[] = [
    { label: 'accept → notification-dispatch pass starts', pick: (l) => diff(l.dispatchPass, l.accepted) },
    { label: 'dispatch pass start → email work queued', pick: (l) => diff(l.queued, l.dispatchPass) },
    { label: 'email work queued → delivery-email pass starts', pick: (l) => diff(l.emailPass, l.queued) },
    { label: 'delivery-email pass start → SMTP server has it', pick: (l, at) => diff(at, l.emailPass) },
    { label: 'accept (server) → SMTP server has it', pick: (l, at) => diff(at, l.accepted) },
    { label: 'SMTP server has it → attempt reported', pick: (l, at) => diff(l.attempted, at) },
    { label: 'attempt reported → notification-status pass', pick: (l) => diff(l.statusPass, l.attempted) },
    { label: 'attempt reported → status recorded', pick: (l) => diff(l.statusRecorded, l.attempted) },
  ];
  const values = stages.map(() => [] as number[]);
  for (const line of lines) {
    const seq = seqByRequest.get(line.requestId);
    const arrival = seq === undefined ? undefined : arrivalBySeq.get(seq);
    if (!arrival) continue;
    stages.forEach((stage, i) => {
      const value = stage.pick(line, arrival.at);
      if (value !== null) values[i]?.push(value);
    });
  }
  return stages.map((stage, i) => ({ label: stage.label, values: percentiles(values[i] ?? []) }));
}

function diff(later: number | null, earlier: number | null): number | null {
  return later === null || earlier === null ? null : later - earlier;
}

/** GET /api/v1/notifications/{id} for some delivered, late and lost requests: their statuses. */
async function statusSample(
  sy: Switchyard,
  delivered: string[],
  late: string[],
  lost: string[],
): Promise<{ sample: Record<string, number>; notes: string[] }> {
  const spread = (ids: string[], n: number) => {
    const step = Math.max(1, Math.floor(ids.length / n));
    return ids.filter((_, i) => i % step === 0).slice(0, n);
  };
  const groups: [string, string[]][] = [
    ['delivered', spread(delivered, STATUS_SAMPLE_DELIVERED)],
    ['late', spread(late, STATUS_SAMPLE_DELIVERED)],
    ['lost', lost.slice(0, STATUS_SAMPLE_MISSING)],
  ];
  const sample: Record<string, number> = {};
  const notes: string[] = [];
  for (const [kind, ids] of groups) {
    for (const id of ids) {
      const response = await fetch(`${sy.url}${PATH}/${encodeURIComponent(id)}`, { headers: sy.auth });
      const text = await response.text();
      if (!response.ok) {
        const key = `${kind}: HTTP ${response.status}`;
        sample[key] = (sample[key] ?? 0) + 1;
        continue;
      }
      const view = JSON.parse(text) as {
        status?: string;
        deliveries?: { status?: string; reason?: string | null }[];
      };
      const key = `${kind}: request ${view.status}, email ${view.deliveries?.[0]?.status}`;
      sample[key] = (sample[key] ?? 0) + 1;
      const reason = view.deliveries?.[0]?.reason;
      if (kind === 'lost' && reason && notes.length < 5) notes.push(`${id}: ${reason}`);
    }
  }
  return { sample, notes };
}

// ---- report ------------------------------------------------------------------------------------------------

function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((_, i) => Math.max(...[headers, ...rows].map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [
    line(headers),
    line(headers.map((_, i) => (i === 0 ? '' : '-'.repeat(widths[i] ?? 0)))),
    ...rows.map(line),
  ];
}

function cpuLine(name: string, cpu: CpuUse | undefined): string | undefined {
  if (!cpu) return undefined;
  const parts = cpu.byGroup.map((group) => `${group.name} ${fixed(group.cores, 2)}`).join(', ');
  return `cpu during ${name}, in cores (of ${cpu.cores}): busy ${fixed(cpu.busy, 2)}: ${parts}`;
}

function quietLine(quiet: Quiet): string {
  const others =
    quiet.stillRunning.length > 0 ? `; OTHER BENCHES STILL RUNNING: ${quiet.stillRunning.join('; ')}` : '';
  return `${quiet.label}: load average at start ${quiet.load}, waited ${fixed(quiet.waited)} s for other benches${others}`;
}

function sessionLines(sample: SessionSample): string[] {
  const out = [
    `  Switchyard sessions not idle: ${fixed(sample.busySessions, 1)} on average (${sample.samples} samples of pg_stat_activity, every 100 ms)`,
  ];
  for (const { what, share } of sample.activity.slice(0, 10)) {
    out.push(`  ${fixed(100 * share, 1).padStart(5)} %  ${what}`);
  }
  out.push(
    `  oldest transaction holding an xid (outbox readers see nothing newer): p50 ${fixed(sample.oldestXid.p50)} ms, ` +
      `p99 ${fixed(sample.oldestXid.p99)} ms, max ${fixed(sample.oldestXid.max)} ms; not Switchyard's in ` +
      `${fixed(100 * sample.oldestXidForeignShare, 1)} % of samples`,
  );
  return out;
}

function printReport(report: Report): void {
  const { options, baseline, phaseA: a, phaseB: b } = report;
  const cpu = cpus();
  const out: string[] = [
    '',
    `node ${process.version}, ${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown CPU'}, PostgreSQL ${report.postgres ?? '?'} ` +
      `(${options.embedded ? 'embedded' : 'machine, 127.0.0.1:5432'}), PostgreSQL bus; SMTP sink ${report.sinkPlace}`,
    `PostgreSQL settings: ${report.postgresSettings ?? '?'}`,
    `load average (1, 5, 15 min) at start ${startLoad}, at end ${loadAverage()}`,
    `code: ${startVersion} at start, ${codeVersion()} at end`,
    '',
    `PHASE A: POST ${PATH}, one email recipient, ${options.connections} connections, ${options.durationSeconds} s ` +
      `after a ${WARMUP_SECONDS} s warm-up; Switchyard with an operator API key (x-api-key)`,
    '',
  ];
  const pick = (m: Throughput | undefined, f: (m: Throughput) => string) => (m ? f(m) : '-');
  const rows: [string, (m: Throughput) => string][] = [
    ['requests/s (mean)', (m) => fixed(m.result.requests.mean)],
    ['accepted/s (2xx / duration)', (m) => fixed(m.result['2xx'] / m.result.duration)],
    ['latency p50 (ms)', (m) => fixed(m.result.latency.p50)],
    ['latency p99 (ms)', (m) => fixed(m.result.latency.p99)],
    ['latency max (ms)', (m) => fixed(m.result.latency.max)],
    ['2xx', (m) => fixed(m.result['2xx'])],
    ['non-2xx', (m) => fixed(m.result.non2xx)],
    ['errors (timeouts)', (m) => `${fixed(m.result.errors)} (${fixed(m.result.timeouts)})`],
  ];
  out.push(
    ...table(
      ['', 'baseline POST /bare-202', `switchyard POST ${PATH}`],
      rows.map(([label, f]) => [label, pick(baseline, f), pick(a, f)]),
    ),
  );
  if (baseline && a && baseline.result.requests.mean > 0) {
    out.push(
      '',
      `switchyard / baseline requests/s: ${fixed((100 * a.result.requests.mean) / baseline.result.requests.mean, 1)} %`,
    );
  }
  for (const [name, m] of [
    ['the baseline run', baseline],
    ['the switchyard run', a],
  ] as const) {
    const line = cpuLine(name, m?.cpu);
    if (line) out.push(line);
  }
  for (const m of [baseline, a]) if (m) out.push(quietLine(m.quiet));
  if (a) {
    out.push('during the switchyard run:', ...sessionLines(a.sessions));
    out.push(
      a.drain.ms === null
        ? `its mail: ${fixed(a.drain.mails)} arrived; ${a.drain.pendingAtGiveUp} deliveries still pending after ${options.drainTimeoutSeconds} s`
        : `its mail (${fixed(a.drain.mails)} messages) had all arrived ${fixed(a.drain.ms / 1000, 1)} s after the load ended ` +
            `(about ${fixed((1000 * a.drain.mails) / Math.max(1, a.drain.ms))} mails/s through the backlog)`,
    );
  }

  if (b) {
    const p = b.paced;
    out.push(
      '',
      `PHASE B: ${options.rate} requests/s for ${options.e2eSeconds} s (open loop, up to ${PACED_CONNECTIONS} ` +
        `keep-alive connections), one email recipient each, ${RECIPIENTS} addresses in turn`,
      quietLine(b.quiet),
      '',
      ...table(
        ['', 'value'],
        [
          ['requests sent (scheduled)', `${fixed(p.sent)} (${fixed(p.scheduled)})`],
          ['achieved send rate (/s)', fixed(p.achievedRate, 1)],
          [
            'send lateness p50 / p99 / max (ms)',
            `${fixed(p.lateness.p50, 1)} / ${fixed(p.lateness.p99, 1)} / ${fixed(p.lateness.max, 1)}`,
          ],
          [
            'in flight at most; sends that waited for a connection',
            `${p.maxInFlight}; ${fixed(p.queuedForConnection)}`,
          ],
          [
            'bench event-loop delay p99 / max (ms)',
            `${fixed(b.loopDelay.p99, 1)} / ${fixed(b.loopDelay.max, 1)}`,
          ],
          ['accepted (202)', fixed(b.accepted)],
          [
            'answers by status',
            Object.entries(p.statuses)
              .map(([s, n]) => `${s === '0' ? 'failed' : s} x${n}`)
              .join(', '),
          ],
          [
            'API latency p50 / p99 / max (ms)',
            (() => {
              const l = percentiles(p.latencies);
              return `${fixed(l.p50, 1)} / ${fixed(l.p99, 1)} / ${fixed(l.max, 1)}`;
            })(),
          ],
          [
            `delivered within ${options.e2eWaitSeconds} s of the load's end (of accepted)`,
            `${fixed(b.delivered)} (${fixed((100 * b.delivered) / Math.max(1, b.accepted), 2)} %)`,
          ],
          [
            `late (within ${options.lateWaitSeconds} s more); lost (never arrived)`,
            `${fixed(b.late)}; ${fixed(b.lost)}`,
          ],
          ['mail without a 202; duplicate mail', `${fixed(b.deliveredWithout202)}; ${fixed(b.duplicates)}`],
          ['delivery rate, first send → last arrival, late mail included (/s)', fixed(b.deliveryRate, 1)],
          [
            'mail arrived per second, s 5 to end of load: mean / min / max',
            `${fixed(b.perSecond.mean, 1)} / ${fixed(b.perSecond.min)} / ${fixed(b.perSecond.max)}`,
          ],
          ['accepted but not arrived when the load ended', fixed(b.backlogAtEnd)],
          ['last send → last arrival (s)', fixed(b.catchUpMs / 1000, 2)],
          [
            'send → SMTP received p50 / p99 / max, late mail included (ms)',
            `${fixed(b.sendToReceived.p50)} / ${fixed(b.sendToReceived.p99)} / ${fixed(b.sendToReceived.max)}`,
          ],
          [
            '202 → SMTP received p50 / p99 / max, late mail included (ms)',
            `${fixed(b.answerToReceived.p50)} / ${fixed(b.answerToReceived.p99)} / ${fixed(b.answerToReceived.max)}`,
          ],
        ],
      ),
    );
    const line = cpuLine('the paced load', b.cpu);
    if (line) out.push(line);
    out.push('during the paced load:', ...sessionLines(b.sessions));
    out.push(
      `  consumer backlog (events of 'notifications' after the group's offset, sampled each second): ` +
        b.sessions.backlog
          .map((g) => `${g.group} mean ${fixed(g.meanDuringLoad)} max ${fixed(g.max)}`)
          .join('; '),
    );
    out.push(
      '',
      "where the time went, per delivered notification (PostgreSQL timestamps + the sink's arrival time, ms):",
      ...table(
        ['stage', 'n', 'p50', 'p99', 'max', 'mean'],
        b.stages.map((s) => [
          s.label,
          fixed(s.values.count),
          fixed(s.values.p50),
          fixed(s.values.p99),
          fixed(s.values.max),
          fixed(s.values.mean),
        ]),
      ),
      '',
      'consumer passes on the notifications topic, from the first send to the last arrival:',
      ...table(
        [
          'group',
          'passes',
          'events',
          'events/s',
          'events/pass mean (max)',
          'pass start → next p50 / p99 / max ms',
        ],
        b.passes.map((g) => [
          g.group,
          fixed(g.passes),
          fixed(g.events),
          fixed(g.eventsPerSecond),
          `${fixed(g.eventsPerPass.mean, 1)} (${fixed(g.eventsPerPass.max)})`,
          `${fixed(g.interval.p50)} / ${fixed(g.interval.p99)} / ${fixed(g.interval.max)}`,
        ]),
      ),
      `SMTP send as the server timed it (delivery_provider_duration_seconds, nodemailer's pool queue ` +
        `included): ${fixed(b.metrics.smtpSend.count)} sends, mean ${fixed(1000 * b.metrics.smtpSend.mean)} ms, ` +
        `p50 <= ${fixed(1000 * b.metrics.smtpSend.p50)} ms, p99 <= ${fixed(1000 * b.metrics.smtpSend.p99)} ms (bucket bounds)`,
      `accept → provider took it as the server timed it (notification_delivery_latency_seconds): ` +
        `mean ${fixed(1000 * b.metrics.serverLatency.mean)} ms, p50 <= ${fixed(1000 * b.metrics.serverLatency.p50)} ms, ` +
        `p99 <= ${fixed(1000 * b.metrics.serverLatency.p99)} ms`,
      `server: ${fixed(b.metrics.cpuSeconds, 1)} s of CPU from the load's start until the pipeline was done ` +
        `(${fixed((1000 * b.metrics.cpuSeconds) / Math.max(1, b.accepted), 2)} ms per accepted notification); ` +
        `event-loop lag p99 ${fixed(1000 * b.metrics.eventLoopLagP99, 1)} ms`,
      ...(b.counters
        ? [
            `database (pg_stat_database, same span): ${fixed(b.counters.commits)} commits ` +
              `(${fixed(b.counters.commits / Math.max(1, b.accepted), 1)} per notification), ` +
              `${fixed(b.counters.rollbacks)} rollbacks, rows inserted ${fixed(b.counters.inserted)} ` +
              `(${fixed(b.counters.inserted / Math.max(1, b.accepted), 1)} per notification), ` +
              `updated ${fixed(b.counters.updated)} (${fixed(b.counters.updated / Math.max(1, b.accepted), 1)}), ` +
              `deleted ${fixed(b.counters.deleted)}`,
          ]
        : []),
      `rows written since phase B started: ${Object.entries(b.writes)
        .map(([k, v]) => `${k} ${fixed(v)}`)
        .join(', ')}`,
      `GET ${PATH}/{id} sample: ${Object.entries(b.statusSample)
        .map(([k, v]) => `${k} x${v}`)
        .join('; ')}`,
      ...b.statusNotes.map((note) => `  ${note}`),
    );
  }
  out.push(
    `switchyard log lines: ${fixed(report.serverLogLines)}, of which error/fatal: ${report.serverErrors.length}`,
    ...report.serverErrors.slice(0, 5).map((line) => `  ${line.slice(0, 300)}`),
  );

  // Aims and source C's floor.
  out.push('');
  if (a) {
    const rate = a.result['2xx'] / a.result.duration;
    const met = rate >= AIM_ACCEPTED_PER_SECOND && a.result.latency.p99 < AIM_API_P99_MS;
    out.push(
      `aim A: >= ${fixed(AIM_ACCEPTED_PER_SECOND)} accepted/s with p99 < ${AIM_API_P99_MS} ms: ${met ? 'MET' : 'NOT MET'} ` +
        `(${fixed(rate)} accepted/s, p99 ${fixed(a.result.latency.p99)} ms)`,
    );
  }
  if (b) {
    const sustained = b.paced.achievedRate >= 0.99 * options.rate;
    const all = b.delivered === b.accepted && b.accepted > 0;
    const e2eMet = b.sendToReceived.p99 < AIM_E2E_P99_MS && b.lost === 0;
    out.push(
      `aim B: end-to-end p99 < ${fixed(AIM_E2E_P99_MS)} ms at ${options.rate}/s: ${e2eMet ? 'MET' : 'NOT MET'} ` +
        `(p99 ${fixed(b.sendToReceived.p99)} ms${b.lost > 0 ? `, ${fixed(b.lost)} lost not counted` : ''}); ` +
        `100 % delivered within ${options.e2eWaitSeconds} s: ${all ? 'MET' : 'NOT MET'} ` +
        `(${fixed((100 * b.delivered) / Math.max(1, b.accepted), 2)} %; ${fixed(b.late)} late, ${fixed(b.lost)} lost)` +
        (sustained ? '' : `; WARNING: the sender reached only ${fixed(b.paced.achievedRate, 1)}/s`),
    );
    const api = percentiles(b.paced.latencies);
    const floor = [
      `${fixed(b.paced.achievedRate * 60)}/min sent ${b.paced.achievedRate * 60 >= FLOOR_PER_MINUTE ? '>=' : '<'} ${fixed(FLOOR_PER_MINUTE)}/min`,
      `API p99 ${fixed(api.p99)} ms ${api.p99 < FLOOR_API_MS ? '<' : '>='} ${FLOOR_API_MS} ms` +
        (a
          ? ` (phase A p99 ${fixed(a.result.latency.p99)} ms ${a.result.latency.p99 < FLOOR_API_MS ? '<' : '>='} ${FLOOR_API_MS} ms)`
          : ''),
      `email p99 ${fixed(b.sendToReceived.p99)} ms ${b.sendToReceived.p99 < FLOOR_EMAIL_MS ? '<' : '>='} ${fixed(FLOOR_EMAIL_MS)} ms`,
      `success (delivered at all, late included) ${fixed((100 * (b.delivered + b.late)) / Math.max(1, b.paced.sent), 2)} % of sent ` +
        `${(b.delivered + b.late) / Math.max(1, b.paced.sent) > FLOOR_SUCCESS ? '>' : '<='} ${fixed(100 * FLOOR_SUCCESS, 1)} %`,
      'push: not measured',
    ];
    out.push(`source C floor: ${floor.join('; ')}`);
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
  const report: Report = {
    options,
    postgres: undefined,
    postgresSettings: undefined,
    baseline: undefined,
    phaseA: undefined,
    phaseB: undefined,
    sinkPlace: options.sink === 'child' ? 'in a child process' : "in the bench's own process",
    serverLogLines: 0,
    serverErrors: [],
  };
  const cleanup: (() => Promise<unknown>)[] = [];
  let server: Child | undefined;
  try {
    report.baseline = await benchBaseline(options, failures);
    const sink = await startSink(options, failures);
    cleanup.push(() => sink.stop());
    say(`SMTP sink on ${sink.url} (${report.sinkPlace})`);
    const sy = await startSwitchyard(options, sink, cleanup, failures);
    report.postgres = sy.postgres;
    report.postgresSettings = sy.settings;
    server = sy.child;
    report.phaseA = await runPhaseA(options, sy, sink, failures);
    report.phaseB = await runPhaseB(options, sy, sink, failures);
  } catch (error) {
    failures.push(error instanceof Error ? error.message : String(error));
  } finally {
    for (const step of cleanup.reverse()) {
      await step().catch((error: unknown) => {
        failures.push(`cleanup: ${(error as Error).message}`);
      });
    }
  }
  report.serverLogLines = server?.logLines ?? 0;
  report.serverErrors = server?.errorLines ?? [];
  printReport(report);
  if (options.cpuProfDir)
    process.stdout.write(`CPU profile of the Switchyard server in ${options.cpuProfDir}\n`);
  if (failures.length > 0) {
    process.stdout.write(`\nFAILED:\n${failures.map((failure) => `  - ${failure}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();

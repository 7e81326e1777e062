// Benchmark of `POST /api/tasks` against a bare Fastify baseline, both in child processes so the load
// generator (autocannon, in this process) never shares an event loop with a server. Switchyard gets a first
// admin and high rate limits (bench/identity.ts); the load sends an operator API key the admin creates.
//
//   npm run bench:tasks [-- --duration <s>] [-- --embedded]
//
// Exit status: 0 when the run completed (whether or not the goal was met), 1 when something broke:
// a server did not start or stop cleanly, a response was not 2xx, a connection failed, or acknowledged
// tasks are missing from the database.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { type CpuUse, measureCpu } from './cpu.ts';
import { apiKeyHeaders, type BenchIdentity, identityEnv, newBenchIdentity } from './identity.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The Node 24 the project pins; the machine's own `node` may be older. */
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const SERVER_MAIN = join(ROOT, 'apps', 'server', 'src', 'main.ts');
const BARE_SERVER = join(ROOT, 'bench', 'bare-server.ts');
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

const CONNECTIONS = 50;
const WARMUP_SECONDS = 2;
const BODY = JSON.stringify({ title: 'bench task', description: 'created by bench/tasks' });
const GOAL_CREATES_PER_SECOND = 2000;
const GOAL_P99_MS = 50;
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;
const AUDIT_TIMEOUT_MS = 60_000;
const AUDIT_POLL_MS = 50;

const USAGE = `Usage: npm run bench:tasks -- [--duration <seconds>] [--embedded]

  --duration <s>   length of each measured run (default 10); a ${WARMUP_SECONDS} s warm-up precedes it
  --embedded       run Switchyard on its embedded PostgreSQL (in a temporary SWITCHYARD_DATA_DIR)
                   instead of a fresh database on ${ADMIN_URL}
`;

interface Options {
  durationSeconds: number;
  embedded: boolean;
}

type LogEntry = Record<string, unknown>;

interface Child {
  name: string;
  process: ChildProcess;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Last lines of stderr and of non-request stdout, for a failure message. */
  tail: string[];
  logLines: number;
  errorLines: string[];
}

interface Measurement {
  result: autocannon.Result;
  cpu: CpuUse | undefined;
}

interface SwitchyardFigures extends Measurement {
  postgres: string;
  tasksBefore: number;
  tasksAfter: number;
  created: number;
  createdPerSecond: number;
  auditBacklogAtEnd: number;
  /** Milliseconds from the end of the measured run until the audit log held every task; null: gave up. */
  auditCatchUpMs: number | null;
  auditAtGiveUp: number;
  warmupDrainMs: number | null;
  /** What Switchyard's database sessions were doing during the measured run, sampled. */
  waits: { what: string; share: number }[];
  server: Child;
}

class BenchError extends Error {
  override name = 'BenchError';
}

let interrupted = false;
const startLoad = loadAverage();
let running: autocannon.Instance | undefined;

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      embedded: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return null;
  }
  const durationSeconds = Number(values.duration);
  if (!Number.isInteger(durationSeconds) || durationSeconds < 1 || durationSeconds > 600) {
    throw new BenchError(`--duration: expected whole seconds from 1 to 600, got ${values.duration}`);
  }
  return { durationSeconds, embedded: values.embedded };
}

function say(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

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
 * Spawns `args` under the pinned Node and reads its stdout line by line until `ready` returns a value.
 * Reading goes on for the child's whole life, so its log pipe never fills. The per-request log lines of
 * Switchyard are only counted, not parsed, to keep this process's share of the two cores small.
 */
async function startChild<T>(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: (entry: LogEntry) => T | undefined,
  onEntry: (entry: LogEntry) => void = () => {},
): Promise<{ child: Child; value: T }> {
  const proc = spawn(NODE, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close' rather than 'exit': it comes after the last output line was read.
    proc.once('close', (code, signal) => resolve({ code, signal }));
    // A child that could not be spawned at all never emits 'exit'.
    proc.once('error', () => {
      if (proc.pid === undefined) resolve({ code: null, signal: null });
    });
  });
  const child: Child = { name, process: proc, exit, tail: [], logLines: 0, errorLines: [] };

  let settle: (value: T) => void = () => {};
  let fail: (error: Error) => void = () => {};
  const readyValue = new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new BenchError(`${name}: not ready after ${START_TIMEOUT_MS / 1000} s`)),
      START_TIMEOUT_MS,
    );
    settle = (value) => {
      clearTimeout(timer);
      resolve(value);
    };
    fail = (error) => {
      clearTimeout(timer);
      reject(error);
    };
  });
  let found = false;
  // Rejecting after the ready line was seen is a no-op: later exits are reported by stopChild.
  proc.once('error', (error) => fail(new BenchError(`${name}: could not start: ${error.message}`)));
  void exit.then(({ code, signal }) =>
    fail(new BenchError(`${name}: exited before it was ready (code ${code}, signal ${signal})`)),
  );

  createInterface({ input: proc.stderr, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
    remember(child.tail, `[stderr] ${line}`);
  });
  createInterface({ input: proc.stdout, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
    child.logLines += 1;
    const quiet = line.includes('"msg":"request completed"') && line.includes('"level":"info"');
    if (quiet) return;
    remember(child.tail, line);
    const entry = parseEntry(line);
    if (!entry) return;
    if (entry.level === 'error' || entry.level === 'fatal') {
      if (child.errorLines.length < 20) child.errorLines.push(line);
    }
    onEntry(entry);
    if (!found) {
      const value = ready(entry);
      if (value !== undefined) {
        found = true;
        settle(value);
      }
    }
  });
  try {
    return { child, value: await readyValue };
  } catch (error) {
    await stopChild(child).catch(() => {});
    const detail = child.tail.length > 0 ? `\n--- last output of ${name} ---\n${child.tail.join('\n')}` : '';
    throw new BenchError(`${(error as Error).message}${detail}`);
  }
}

/** SIGTERM, then waits for the exit; SIGKILL if it does not come in time. Returns the exit status. */
async function stopChild(child: Child): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const proc = child.process;
  if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
  const timer = sleep(STOP_TIMEOUT_MS, 'timeout' as const, { ref: false });
  const outcome = await Promise.race([child.exit, timer]);
  if (outcome !== 'timeout') return outcome;
  say(`${child.name} did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM; killing it`);
  proc.kill('SIGKILL');
  return child.exit;
}

function pids(child: Child): number[] {
  return child.process.pid === undefined ? [] : [child.process.pid];
}

function checkInterrupted(): void {
  if (interrupted) throw new BenchError('interrupted');
}

async function load(
  url: string,
  seconds: number,
  auth: Record<string, string> = {},
): Promise<autocannon.Result> {
  checkInterrupted();
  const instance = autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: BODY,
  });
  running = instance;
  try {
    return await instance;
  } finally {
    running = undefined;
  }
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, application_name: 'switchyard-bench' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function count(client: pg.Client, table: string): Promise<number> {
  const result = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`);
  return Number(result.rows[0]?.n ?? Number.NaN);
}

/** The task count once in-flight requests (cut off when autocannon stopped) have committed. */
async function settledTaskCount(client: pg.Client): Promise<number> {
  let previous = await count(client, 'tasks.tasks');
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    const current = await count(client, 'tasks.tasks');
    if (current === previous) return current;
    previous = current;
  }
  return previous;
}

/** Polls the audit log until it holds `tasks` rows; null when it has not after AUDIT_TIMEOUT_MS. */
async function auditCatchUp(
  client: pg.Client,
  tasks: number,
  since: number,
): Promise<{ ms: number | null; last: number }> {
  let last = 0;
  while (performance.now() - since < AUDIT_TIMEOUT_MS) {
    checkInterrupted();
    last = await count(client, 'audit.task_audit_log');
    if (last >= tasks) return { ms: performance.now() - since, last };
    await sleep(AUDIT_POLL_MS);
  }
  return { ms: null, last };
}

async function benchBaseline(options: Options): Promise<Measurement> {
  say('starting the baseline (bare Fastify) in a child process');
  const { child, value: port } = await startChild('bare-server', [BARE_SERVER], process.env, (entry) =>
    typeof entry.port === 'number' ? entry.port : undefined,
  );
  try {
    const url = `http://127.0.0.1:${port}/bare`;
    say(`baseline: warm-up ${WARMUP_SECONDS} s against ${url}`);
    await load(url, WARMUP_SECONDS);
    say(`baseline: measuring ${options.durationSeconds} s with ${CONNECTIONS} connections`);
    const cpu = await measureCpu({
      pids: { 'bench (autocannon)': [process.pid], 'bare server': pids(child) },
    });
    const result = await load(url, options.durationSeconds);
    return { result, cpu: await cpu.stop() };
  } finally {
    const status = await stopChild(child);
    if (status.code !== 0 && status.signal !== 'SIGTERM') {
      say(`warning: bare-server exited with code ${status.code}, signal ${status.signal}`);
    }
  }
}

async function benchSwitchyard(options: Options, failures: string[]): Promise<SwitchyardFigures> {
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    const identity: BenchIdentity = newBenchIdentity();
    const env: NodeJS.ProcessEnv = {
      ...identityEnv(process.env, identity),
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    };
    for (const name of ['DATABASE_URL', 'SWITCHYARD_DATA_DIR', 'SWITCHYARD_SERVICES', 'SWITCHYARD_BUS']) {
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
      await withAdmin((admin) => admin.query(`CREATE DATABASE ${database}`));
      cleanup.push(async () => {
        await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
        say(`dropped database ${database}`);
      });
      databaseUrl = `postgres://postgres@127.0.0.1:5432/${database}`;
      databaseName = database;
      env.DATABASE_URL = databaseUrl;
      say(`created database ${database}`);
    }

    say('starting Switchyard (apps/server/src/main.ts start)');
    let embeddedPort: number | undefined;
    const { child, value: url } = await startChild(
      'switchyard',
      [SERVER_MAIN, 'start'],
      env,
      (entry) =>
        entry.msg === 'switchyard started' && typeof entry.url === 'string' ? entry.url : undefined,
      (entry) => {
        if (entry.msg === 'embedded PostgreSQL ready' && typeof entry.port === 'number') {
          embeddedPort = entry.port;
        }
      },
    );
    cleanup.push(async () => {
      const status = await stopChild(child);
      if (status.code !== 0) {
        failures.push(`switchyard exited with code ${status.code}, signal ${status.signal} after SIGTERM`);
      }
    });
    say(`Switchyard listens on ${url}`);
    const auth = await apiKeyHeaders(url, identity);
    say('signed in as the first admin and created an operator API key for the load');

    if (dataDir !== undefined) {
      if (embeddedPort === undefined) throw new BenchError('no "embedded PostgreSQL ready" line with a port');
      const password = (await readFile(join(dataDir, 'postgres.password'), 'utf8')).trim();
      databaseUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${embeddedPort}/switchyard`;
    }
    const client = new pg.Client({ connectionString: databaseUrl, application_name: 'switchyard-bench' });
    await client.connect();
    cleanup.push(() => client.end());
    const postgres =
      (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v.split(
        ' ',
      )[0] ?? '?';

    const target = `${url}/api/tasks`;
    say(`switchyard: warm-up ${WARMUP_SECONDS} s against ${target}`);
    const warmup = await load(target, WARMUP_SECONDS, auth);
    if (warmup.non2xx > 0 || warmup.errors > 0) {
      failures.push(`warm-up: ${warmup.non2xx} non-2xx responses, ${warmup.errors} errors`);
    }
    // Start the measured run without a backlog left over from the warm-up.
    const warmupTasks = await settledTaskCount(client);
    const warmupDrain = await auditCatchUp(client, warmupTasks, performance.now());

    const tasksBefore = await count(client, 'tasks.tasks');
    say(`switchyard: measuring ${options.durationSeconds} s with ${CONNECTIONS} connections`);
    const cpu = await measureCpu({
      pids: { 'bench (autocannon)': [process.pid], 'switchyard server': pids(child) },
      database: databaseName,
    });
    const sampler = sampleWaits(client);
    const result = await load(target, options.durationSeconds, auth).finally(() => sampler.stop());
    const ended = performance.now();
    const cpuUse = await cpu.stop();
    const waits = await sampler.done;
    const auditAtEnd = await count(client, 'audit.task_audit_log');
    const tasksAfter = await settledTaskCount(client);
    const created = tasksAfter - tasksBefore;
    say('switchyard: waiting for the audit consumer to catch up');
    const audit = await auditCatchUp(client, tasksAfter, ended);

    const acknowledged = result['2xx'];
    if (created < acknowledged) {
      failures.push(
        `${acknowledged} creates were answered 2xx but only ${created} tasks are in the database`,
      );
    } else if (created > acknowledged + CONNECTIONS + result.errors) {
      failures.push(`${created} tasks were created but only ${acknowledged} creates were answered 2xx`);
    }
    if (audit.ms === null) {
      say(`warning: audit log has ${audit.last} of ${tasksAfter} tasks after ${AUDIT_TIMEOUT_MS / 1000} s`);
    }

    return {
      result,
      cpu: cpuUse,
      postgres,
      tasksBefore,
      tasksAfter,
      created,
      createdPerSecond: created / result.duration,
      auditBacklogAtEnd: tasksAfter - auditAtEnd,
      auditCatchUpMs: audit.ms,
      auditAtGiveUp: audit.last,
      warmupDrainMs: warmupDrain.ms,
      waits,
      server: child,
    };
  } finally {
    for (const step of cleanup.reverse()) {
      await step().catch((error: unknown) => {
        failures.push(`cleanup: ${(error as Error).message}`);
      });
    }
  }
}

/**
 * Samples pg_stat_activity every 100 ms for Switchyard's own sessions that are not idle: running on the
 * CPU, waiting on a lock or on I/O, or idle inside a transaction (waiting for the Node process).
 */
function sampleWaits(client: pg.Client): { stop(): void; done: Promise<{ what: string; share: number }[]> } {
  let stopped = false;
  const tally = new Map<string, number>();
  let sessions = 0;
  const loop = async () => {
    while (!stopped) {
      const result = await client
        .query<{ state: string | null; type: string | null; event: string | null }>(
          `SELECT state, wait_event_type AS type, wait_event AS event FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'switchyard' AND state <> 'idle'`,
        )
        .catch(() => undefined);
      if (!result) break;
      for (const row of result.rows) {
        const what =
          row.state === 'active'
            ? row.type === null
              ? 'active, on CPU'
              : `active, waiting ${row.type}/${row.event}`
            : `${row.state}${row.type === null ? '' : ` (${row.type}/${row.event})`}`;
        tally.set(what, (tally.get(what) ?? 0) + 1);
        sessions += 1;
      }
      await sleep(100);
    }
    return [...tally.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([what, n]) => ({ what, share: sessions === 0 ? 0 : n / sessions }));
  };
  const done = loop();
  return {
    stop() {
      stopped = true;
    },
    done,
  };
}

function loadAverage(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

function fixed(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function seconds(ms: number | null): string {
  return ms === null ? 'n/a' : `${fixed(ms / 1000, 2)} s`;
}

function printReport(options: Options, baseline: Measurement | undefined, sy: SwitchyardFigures | undefined) {
  const rows: [string, string, string][] = [];
  const both = (label: string, pick: (m: Measurement) => string) =>
    rows.push([label, baseline ? pick(baseline) : '-', sy ? pick(sy) : '-']);
  const only = (label: string, pick: (m: SwitchyardFigures) => string) =>
    rows.push([label, '-', sy ? pick(sy) : '-']);

  both('requests/s (mean)', (m) => fixed(m.result.requests.mean));
  both('latency p50 (ms)', (m) => fixed(m.result.latency.p50));
  both('latency p99 (ms)', (m) => fixed(m.result.latency.p99));
  both('latency max (ms)', (m) => fixed(m.result.latency.max));
  both('2xx responses', (m) => fixed(m.result['2xx']));
  both('non-2xx responses', (m) => fixed(m.result.non2xx));
  both('errors (timeouts)', (m) => `${fixed(m.result.errors)} (${fixed(m.result.timeouts)})`);
  only(
    'tasks created in run',
    (m) => `${fixed(m.created)} (db ${fixed(m.tasksBefore)} -> ${fixed(m.tasksAfter)})`,
  );
  only('created tasks/s', (m) => fixed(m.createdPerSecond));
  only('audit backlog at end', (m) => `${fixed(m.auditBacklogAtEnd)} events`);
  only('audit catch-up', (m) =>
    m.auditCatchUpMs === null
      ? `> ${AUDIT_TIMEOUT_MS / 1000} s (${fixed(m.auditAtGiveUp)} of ${fixed(m.tasksAfter)})`
      : seconds(m.auditCatchUpMs),
  );

  const headers: [string, string, string] = ['', 'baseline (bare Fastify)', 'switchyard POST /api/tasks'];
  const widths = [0, 1, 2].map((i) => Math.max(...[headers, ...rows].map((row) => (row[i] ?? '').length)));
  const line = (row: [string, string, string]) =>
    `${row[0].padEnd(widths[0] ?? 0)}  ${row[1].padStart(widths[1] ?? 0)}  ${row[2].padStart(widths[2] ?? 0)}`;

  const cpu = cpus();
  const out: string[] = [
    '',
    `POST ${CONNECTIONS} connections, ${options.durationSeconds} s measured after a ${WARMUP_SECONDS} s warm-up; ` +
      'Switchyard requests carry an operator API key (x-api-key)',
    `node ${process.version}, ${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ` +
      `PostgreSQL ${sy?.postgres ?? '?'} (${options.embedded ? 'embedded' : 'machine, 127.0.0.1:5432'})`,
    `load average (1, 5, 15 min) at start ${startLoad}, at end ${loadAverage()}`,
    '',
    line(headers),
    line(['', '-'.repeat(widths[1] ?? 0), '-'.repeat(widths[2] ?? 0)]),
    ...rows.map(line),
  ];
  for (const [name, m] of [
    ['baseline', baseline],
    ['switchyard', sy],
  ] as const) {
    if (!m?.cpu) continue;
    const parts = m.cpu.byGroup.map((group) => `${group.name} ${fixed(group.cores, 2)}`).join(', ');
    out.push(
      `cpu during the ${name} run, in cores (of ${m.cpu.cores}): busy ${fixed(m.cpu.busy, 2)}: ${parts}`,
    );
  }
  if (baseline && sy && baseline.result.requests.mean > 0) {
    out.push(
      '',
      `switchyard / baseline requests/s: ${fixed((100 * sy.result.requests.mean) / baseline.result.requests.mean, 1)} %`,
    );
  }
  if (sy) {
    out.push(
      `switchyard log lines: ${fixed(sy.server.logLines)}, of which error/fatal: ${sy.server.errorLines.length}` +
        (sy.warmupDrainMs === null ? '' : `; warm-up audit backlog drained in ${seconds(sy.warmupDrainMs)}`),
    );
    for (const errorLine of sy.server.errorLines.slice(0, 5)) out.push(`  ${errorLine.slice(0, 300)}`);
    if (sy.waits.length > 0) {
      out.push('switchyard database sessions during the run (pg_stat_activity, sampled every 100 ms):');
      for (const { what, share } of sy.waits.slice(0, 6)) {
        out.push(`  ${fixed(100 * share, 1).padStart(5)} %  ${what}`);
      }
    }
    const met = sy.createdPerSecond >= GOAL_CREATES_PER_SECOND && sy.result.latency.p99 < GOAL_P99_MS;
    out.push(
      '',
      `goal: >= ${GOAL_CREATES_PER_SECOND} creates/s, p99 < ${GOAL_P99_MS} ms: ${met ? 'MET' : 'NOT MET'} ` +
        `(${fixed(sy.createdPerSecond)} creates/s, p99 ${fixed(sy.result.latency.p99)} ms)`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

function checkLoad(name: string, m: Measurement | undefined, failures: string[]): void {
  if (!m) return;
  if (m.result.non2xx > 0) {
    const codes = Object.entries(m.result.statusCodeStats)
      .filter(([code]) => !code.startsWith('2'))
      .map(([code, stats]) => `${code} x${stats.count}`)
      .join(', ');
    failures.push(`${name}: ${m.result.non2xx} non-2xx responses (${codes})`);
  }
  if (m.result.errors > 0) failures.push(`${name}: ${m.result.errors} connection errors`);
  if (m.result['2xx'] === 0) failures.push(`${name}: no successful response at all`);
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) return 0;
  process.on('SIGINT', () => {
    interrupted = true;
    running?.stop();
  });

  const failures: string[] = [];
  let baseline: Measurement | undefined;
  let switchyard: SwitchyardFigures | undefined;
  try {
    baseline = await benchBaseline(options);
    checkLoad('baseline', baseline, failures);
    switchyard = await benchSwitchyard(options, failures);
    checkLoad('switchyard', switchyard, failures);
  } catch (error) {
    failures.push(error instanceof Error ? error.message : String(error));
  }
  printReport(options, baseline, switchyard);
  if (failures.length > 0) {
    process.stdout.write(`\nFAILED:\n${failures.map((failure) => `  - ${failure}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();

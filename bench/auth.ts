// What authentication and its cache cost: authenticated `GET /api/v1/users/{id}` on the real server
// (apps/server, all services, in a child process) with the cache warm and cold, next to the same route
// without authentication in the same run (bench/users-baseline-server.ts, another child process: the
// kernel's HTTP app, the gateway's hooks and the users routes on the same database, with an `authenticate`
// that returns a fixed identity). autocannon runs in this process, as in bench/tasks.ts.
//
//   npm run bench:auth [-- --duration <s>] [-- --redis] [-- --rounds <n>] [...]
//
// Scenarios (each: a 2 s warm-up, then the measured run), in rounds; the baseline opens every round and
// closes the last, so each authenticated run has a baseline run on either side:
//   baseline     the baseline process
//   warm         one access token: its verification is remembered, session, principal and user cached
//   api-key      one API key (x-api-key): a SHA-256 of the key, the key's entry cached
//   cold-token   more access tokens than the authenticator remembers, round robin, so every request
//                verifies an EdDSA signature; session, principal and user stay cached
//   cold-cache   a user, session and token never seen before on every request: signature verified,
//                session and principal (the user) read from PostgreSQL and cached
//
// Exit status: 0 when the run completed (whether or not the aim was met), 1 when something broke: a server
// did not start or stop cleanly, a response was not 2xx, a connection failed, or the two servers answered
// the same request differently.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createLogger, createPool, type Pool, systemClock } from '@switchyard/kernel';
import { createTestDatabase, type TestDatabase } from '@switchyard/testing';
import { createTestRedisPrefix, TEST_REDIS_URL, type TestRedisPrefix } from '@switchyard/testing/redis';
import autocannon from 'autocannon';
import { createSealer } from '../services/auth/src/secrets.ts';
import { createKeyRing } from '../services/auth/src/tokens.ts';
import { type Child, pidsOf, ROOT, startChild, stopChild } from './child.ts';
import { codeVersion } from './code-version.ts';
import { type CpuUse, measureCpu } from './cpu.ts';
import {
  type BenchIdentity,
  bearer,
  createApiKey,
  identityEnv,
  newBenchIdentity,
  refreshTokens,
  signIn,
  type TokenPair,
} from './identity.ts';

const SERVER_MAIN = join(ROOT, 'apps', 'server', 'src', 'main.ts');
const BASELINE_SERVER = join(ROOT, 'bench', 'users-baseline-server.ts');

const SCENARIOS = ['warm', 'api-key', 'cold-token', 'cold-cache'] as const;
type Scenario = (typeof SCENARIOS)[number];

const WARMUP_SECONDS = 2;
/** The aim: authentication and its cache cost at most 25 % of the throughput (warm cache). */
const AIM_SHARE = 0.75;
/** VERIFIED_TOKENS_MAX of services/auth/src/authenticate.ts: verified tokens it remembers (oldest out first). */
const VERIFIED_TOKEN_MEMO = 10_000;
/** Sessions (sign-ins of the bench admin) the cold tokens are spread over. */
const COLD_TOKEN_SESSIONS = 24;
/** Cold-cache identities prepared per request/s expected, times the run's length (headroom). */
const COLD_HEADROOM = 1.3;
const COLD_IDENTITIES_MIN = 5_000;
const COLD_IDENTITIES_MAX = 200_000;
/** Access tokens live 15 minutes (ACCESS_TOKEN_TTL_SECONDS); a long run renews or replaces them after 10. */
const TOKEN_RENEW_AFTER_MS = 10 * 60_000;
/** "other CPU" above this marks a run as skewed by another load. */
const CONTENDED_CORES = 0.1;
/** --wait-quiet waits for this many quiet seconds in a row. */
const QUIET_SECONDS = 3;

const USAGE = `Usage: npm run bench:auth -- [options]

  --duration <s>        length of each measured run (default 10); a ${WARMUP_SECONDS} s warm-up precedes each
  --connections <n>     autocannon connections (default 50)
  --redis               run Switchyard with REDIS_URL (${TEST_REDIS_URL}, or SWITCHYARD_TEST_REDIS_URL) and a
                        key prefix of its own, deleted afterwards; the baseline keeps a memory cache
  --scenarios <list>    comma list of ${SCENARIOS.join(', ')} (default: all); the baseline always runs
  --rounds <n>          run the baseline and the scenarios <n> times, interleaved (default 1); the summary
                        gives each scenario's median
  --restart             start both servers afresh for every round: a process's steady state (what the JIT
                        made of it) differs from one process to the next, so rounds then sample that too
  --cold-tokens <n>     access tokens the cold-token scenario cycles through (default 12500; more than the
                        ${VERIFIED_TOKEN_MEMO.toLocaleString('en-US')} verified tokens the authenticator remembers)
  --cpu-prof <dir>      write V8 CPU profiles of both servers (node --cpu-prof) into <dir>
  --wait-quiet <s>      before each warm-up, wait up to <s> seconds (default 0) until other processes use at
                        most ${CONTENDED_CORES} cores for ${QUIET_SECONDS} s, so another load on the machine does not skew it
  --retries <n>         measure a scenario again (up to <n> times, default 0) when other processes used more
                        than ${CONTENDED_CORES} cores during its run; the last attempt is reported
`;

interface Options {
  durationSeconds: number;
  connections: number;
  redis: boolean;
  scenarios: Scenario[];
  coldTokens: number;
  cpuProfDir: string | undefined;
  waitQuietSeconds: number;
  retries: number;
  rounds: number;
  restart: boolean;
}

interface Run {
  label: string;
  scenario: Scenario | 'baseline';
  round: number;
  result: autocannon.Result;
  cpu: CpuUse | undefined;
  /** Microseconds of the loaded server's CPU per request, from /proc; undefined without /proc. */
  serverCpuPerRequestUs: number | undefined;
  /** Index scans of auth.sessions and users.users during the run (lookups that missed the cache). */
  lookups: { sessions: number; users: number } | undefined;
  /** Commands the server sent to Redis during the run, by command (redis_operations_total). */
  redis: Map<string, number> | undefined;
  note?: string;
}

interface Setup {
  coldTokens?: { count: number; sessions: number; ms: number };
  coldIdentities?: { prepared: number; used: number; ms: number };
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
      redis: { type: 'boolean', default: false },
      scenarios: { type: 'string', default: SCENARIOS.join(',') },
      'cold-tokens': { type: 'string', default: '12500' },
      'cpu-prof': { type: 'string' },
      'wait-quiet': { type: 'string', default: '0' },
      retries: { type: 'string', default: '0' },
      rounds: { type: 'string', default: '1' },
      restart: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return null;
  }
  const names = values.scenarios.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new BenchError(
      `--scenarios: expected a comma list of ${SCENARIOS.join(', ')}, got ${values.scenarios}`,
    );
  }
  return {
    durationSeconds: whole('duration', values.duration, 1, 600),
    connections: whole('connections', values.connections, 1, 1000),
    redis: values.redis,
    scenarios: SCENARIOS.filter((name) => names.includes(name)),
    coldTokens: whole('cold-tokens', values['cold-tokens'], 1, 1_000_000),
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']),
    waitQuietSeconds: whole('wait-quiet', values['wait-quiet'], 0, 3600),
    retries: whole('retries', values.retries, 0, 10),
    rounds: whole('rounds', values.rounds, 1, 20),
    restart: values.restart,
  };
}

function checkInterrupted(): void {
  if (interrupted) throw new BenchError('interrupted');
}

// ---- load --------------------------------------------------------------------------------------------------

interface Target {
  path: string;
  headers: Record<string, string>;
}

/**
 * `seconds` of GET requests, each to `next()`'s path with its headers. Every scenario goes through
 * setupRequest, also those with one fixed request, so the load generator does the same work in all.
 */
async function load(
  url: string,
  seconds: number,
  connections: number,
  next: () => Target,
): Promise<autocannon.Result> {
  checkInterrupted();
  const instance = autocannon({
    url,
    connections,
    duration: seconds,
    method: 'GET',
    requests: [
      {
        setupRequest: (request) => {
          const target = next();
          return { ...request, path: target.path, headers: { ...request.headers, ...target.headers } };
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

/**
 * Index scans of auth.sessions and users.users so far. A PostgreSQL backend flushes its table statistics at
 * the end of a transaction when a second has passed since its last flush; an idle one that could not waits
 * up to 10 s. So, a second after the load, every connection of the server's pool is made to run a query
 * (40 concurrent GET /ready, each a SELECT 1 on the pool of 20), which brings the counts up to date.
 */
async function lookupCounts(pool: Pool, serverUrl: string): Promise<{ sessions: number; users: number }> {
  await sleep(1_100);
  await Promise.all(
    Array.from({ length: 40 }, async () => {
      const response = await fetch(`${serverUrl}/ready`);
      await response.arrayBuffer();
    }),
  );
  await sleep(200);
  await pool.query('SELECT pg_stat_clear_snapshot()');
  const result = await pool.query<{ relname: string; scans: string }>(
    `SELECT relname, (coalesce(idx_scan, 0) + coalesce(seq_scan, 0))::text AS scans FROM pg_stat_user_tables
      WHERE (schemaname, relname) IN (('auth', 'sessions'), ('users', 'users'))`,
  );
  const scans = (name: string) => Number(result.rows.find((row) => row.relname === name)?.scans ?? 0);
  return { sessions: scans('sessions'), users: scans('users') };
}

/** Process ids whose command line starts with `prefix` (the Redis server, for the CPU figures). */
async function findPids(prefix: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry)) continue;
    const command = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (command.startsWith(prefix)) found.push(Number(entry));
  }
  return found;
}

interface Measure {
  url: string;
  options: Options;
  pool: Pool;
  database: string;
  cpuPids: Record<string, number[]>;
  /** Both servers: idle or not, they are not "other processes". */
  serverPids: number[];
  failures: string[];
  /** With --redis, Switchyard's redis_operations_total by command; undefined for the baseline. */
  redisCommands?: () => Promise<Map<string, number>>;
}

/** redis_operations_total of a server's /metrics, summed over outcomes, by command. */
async function redisCommands(url: string, headers: Record<string, string>): Promise<Map<string, number>> {
  const response = await fetch(`${url}/metrics`, { headers });
  const text = await response.text();
  if (!response.ok) throw new BenchError(`GET /metrics: ${response.status} ${text.slice(0, 200)}`);
  const counts = new Map<string, number>();
  for (const match of text.matchAll(/^redis_operations_total\{([^}]*)\} (\S+)$/gm)) {
    const command = /command="([^"]+)"/.exec(match[1] ?? '')?.[1] ?? '?';
    counts.set(command, (counts.get(command) ?? 0) + Number(match[2]));
  }
  return counts;
}

/**
 * Waits until processes other than the bench's own have used at most CONTENDED_CORES for QUIET_SECONDS in
 * a row, up to --wait-quiet seconds.
 */
async function waitQuiet(m: Measure): Promise<void> {
  const seconds = m.options.waitQuietSeconds;
  if (seconds === 0) return;
  const deadline = performance.now() + seconds * 1000;
  let waited = false;
  let quiet = 0;
  for (;;) {
    checkInterrupted();
    const cpu = await measureCpu({
      pids: { bench: [process.pid, ...m.serverPids], ...m.cpuPids },
      database: m.database,
    });
    await sleep(1_000);
    const other = (await cpu.stop())?.byGroup.find((group) => group.name === 'other processes')?.cores;
    if (other === undefined || other <= CONTENDED_CORES) {
      quiet += 1;
      if (quiet < QUIET_SECONDS) continue;
      if (waited) say('the machine is quiet');
      return;
    }
    quiet = 0;
    if (performance.now() > deadline) {
      say(`other processes still use ${fixed(other, 2)} cores after ${seconds} s; measuring anyway`);
      return;
    }
    if (!waited) say(`waiting for the machine to be quiet (other processes use ${fixed(other, 2)} cores)`);
    waited = true;
  }
}

/** One scenario as it is measured: which server, which requests, what to do between warm-up and run. */
interface Plan {
  scenario: Scenario | 'baseline';
  label: string;
  /** Which server the requests go to. */
  on: 'switchyard' | 'baseline';
  next: () => Target;
  /** Before the warm-up. */
  beforeWarmup?: () => Promise<void>;
  /** Between the warm-up and the measured run. */
  afterWarmup?: (warmup: autocannon.Result) => Promise<void>;
  /** After the measured run (notes about it). */
  afterRun?: (run: Run) => void;
}

/**
 * Warm-up, then the measured run; with --retries, a run that other processes contended (more than
 * CONTENDED_CORES) is measured again, warm-up included, and the last attempt is kept.
 */
async function measure(
  plan: Plan,
  round: number,
  at: (on: Plan['on']) => { m: Measure; server: Child },
): Promise<Run> {
  const { label } = plan;
  for (let attempt = 0; ; attempt++) {
    await plan.beforeWarmup?.();
    const { m, server } = at(plan.on);
    const run = await measureOnce(plan, round, m, server);
    const other = otherCores(run) ?? 0;
    if (other <= CONTENDED_CORES || attempt >= m.options.retries) {
      if (attempt > 0) {
        const retried = `measured ${attempt + 1} times: earlier attempts contended by other processes`;
        run.note = run.note ? `${retried}; ${run.note}` : retried;
      }
      return run;
    }
    say(`${label}: other processes used ${fixed(other, 2)} cores during the run; measuring again`);
  }
}

async function measureOnce(plan: Plan, round: number, m: Measure, server: Child): Promise<Run> {
  const { label, scenario, next } = plan;
  await waitQuiet(m);
  say(`${label}: warm-up ${WARMUP_SECONDS} s`);
  const warmup = await load(m.url, WARMUP_SECONDS, m.options.connections, next);
  if (warmup.non2xx > 0 || warmup.errors > 0) {
    m.failures.push(`${label} warm-up: ${warmup.non2xx} non-2xx responses, ${warmup.errors} errors`);
  }
  await plan.afterWarmup?.(warmup);
  const before = await lookupCounts(m.pool, m.url);
  const redisBefore = await m.redisCommands?.();
  say(`${label}: measuring ${m.options.durationSeconds} s with ${m.options.connections} connections`);
  const cpu = await measureCpu({
    pids: { 'bench (autocannon)': [process.pid], [server.name]: pidsOf(server), ...m.cpuPids },
    database: m.database,
  });
  const result = await load(m.url, m.options.durationSeconds, m.options.connections, next);
  const cpuUse = await cpu.stop();
  const redisAfter = await m.redisCommands?.();
  const after = await lookupCounts(m.pool, m.url);
  const serverCores = cpuUse?.byGroup.find((group) => group.name === server.name)?.cores;
  const requests = result.requests.total;
  checkLoad(label, result, m.failures);
  say(`${label}: ${fixed(result.requests.mean)} requests/s, p99 ${fixed(result.latency.p99, 1)} ms`);
  const run: Run = {
    label,
    scenario,
    round,
    result,
    cpu: cpuUse,
    serverCpuPerRequestUs:
      serverCores === undefined || requests === 0
        ? undefined
        : (serverCores * result.duration * 1e6) / requests,
    lookups: { sessions: after.sessions - before.sessions, users: after.users - before.users },
    redis:
      redisBefore && redisAfter
        ? new Map([...redisAfter].map(([command, n]) => [command, n - (redisBefore.get(command) ?? 0)]))
        : undefined,
  };
  plan.afterRun?.(run);
  return run;
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

// ---- credentials -------------------------------------------------------------------------------------------

/**
 * Signs access tokens as the server does: the key ring of services/auth on the server's database, its
 * signing key unsealed with the SWITCHYARD_SECRET_KEY this bench gave the server. The tokens are the same
 * as those sign-in and refresh issue (minting 12,500 by refresh takes the server about 20 s; this, 1 s).
 */
function tokenMinter(pool: Pool, identity: BenchIdentity) {
  const keyRing = createKeyRing({
    db: pool,
    sealer: createSealer(Buffer.from(identity.secretKey, 'utf8')),
    clock: systemClock,
    log: createLogger({ level: 'warn', destination: process.stderr }),
    rotateAfterSeconds: 30 * 24 * 3600,
  });
  return async (claims: { userId: string; sessionId: string; role: string }) =>
    (await keyRing.sign(claims)).token;
}

/**
 * `count` valid access tokens nobody has used, spread round robin over COLD_TOKEN_SESSIONS sessions of the
 * bench admin opened by signing in (so their session and principal entries get cached at the first
 * request, like those of the warm scenario).
 */
async function coldTokens(
  url: string,
  pool: Pool,
  identity: BenchIdentity,
  count: number,
): Promise<{ tokens: string[]; sessions: number; ms: number }> {
  const started = performance.now();
  const sessions: TokenPair[] = [];
  // Two at a time: each sign-in is an argon2 verification.
  while (sessions.length < COLD_TOKEN_SESSIONS) {
    sessions.push(...(await Promise.all([signIn(url, identity), signIn(url, identity)])));
  }
  const mint = tokenMinter(pool, identity);
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const session = sessions[i % sessions.length] as TokenPair;
    tokens.push(
      await mint({ userId: session.user.id, sessionId: session.session_id, role: session.user.role }),
    );
  }
  return { tokens, sessions: sessions.length, ms: performance.now() - started };
}

/**
 * Identities nobody has used: members written straight into users.users (no password anyone knows, no
 * user.created event) with a session each in auth.sessions, and an access token each (tokenMinter).
 * `add(count)` appends `count` more to `identities`.
 */
function coldIdentities(pool: Pool, identity: BenchIdentity) {
  const mint = tokenMinter(pool, identity);
  const identities: { userId: string; token: string }[] = [];
  let spentMs = 0;
  return {
    identities,
    get ms() {
      return spentMs;
    },
    async add(count: number): Promise<void> {
      const started = performance.now();
      const users = await pool.query<{ id: string }>(
        `INSERT INTO users.users (id, name, email, password, role, status, created_at, updated_at)
         SELECT gen_random_uuid(), 'bench cold ' || n, 'bench-cold-' || n || '@switchyard.test',
                '!', 'member', 'active', now(), now()
           FROM generate_series($1::int + 1, $1::int + $2::int) AS n
         RETURNING id`,
        [identities.length, count],
      );
      const sessions = await pool.query<{ id: string; user_id: string }>(
        `INSERT INTO auth.sessions (id, user_id, created_at, last_used_at, absolute_expires_at, user_agent, ip)
         SELECT gen_random_uuid(), user_id, now(), now(), now() + interval '1 day', 'bench/auth', '127.0.0.1'
           FROM unnest($1::uuid[]) AS user_id
         RETURNING id, user_id`,
        [users.rows.map((row) => row.id)],
      );
      for (const session of sessions.rows) {
        const token = await mint({ userId: session.user_id, sessionId: session.id, role: 'member' });
        identities.push({ userId: session.user_id, token });
      }
      spentMs += performance.now() - started;
    },
  };
}

/** The same request to both servers must get the same answer, or they do not run the same handler path. */
async function checkSameAnswer(
  switchyardUrl: string,
  baselineUrl: string,
  path: string,
  headers: Record<string, string>,
): Promise<void> {
  const anonymous = await fetch(`${switchyardUrl}${path}`);
  await anonymous.arrayBuffer();
  if (anonymous.status !== 401) {
    throw new BenchError(
      `GET ${path} without credentials: expected 401 from Switchyard, got ${anonymous.status}`,
    );
  }
  const [real, base] = await Promise.all(
    [switchyardUrl, baselineUrl].map(async (url) => {
      const response = await fetch(`${url}${path}`, { headers });
      return { status: response.status, body: await response.text() };
    }),
  );
  if (real?.status !== 200 || base?.status !== 200 || real.body !== base.body) {
    throw new BenchError(
      `GET ${path}: Switchyard answered ${real?.status} ${real?.body.slice(0, 200)}, ` +
        `the baseline ${base?.status} ${base?.body.slice(0, 200)}`,
    );
  }
}

// ---- the run -----------------------------------------------------------------------------------------------

async function benchAuth(options: Options, runs: Run[], setup: Setup, failures: string[]): Promise<string> {
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    const db: TestDatabase = await createTestDatabase('bench_auth');
    cleanup.push(async () => {
      await db.drop();
      say(`dropped database ${db.name}`);
    });
    say(`created database ${db.name}`);
    let redis: TestRedisPrefix | undefined;
    if (options.redis) {
      redis = await createTestRedisPrefix('bench_auth');
      const prefix = redis;
      cleanup.push(async () => {
        await prefix.cleanup();
        say(`deleted the Redis keys under ${prefix.prefix}`);
      });
      say(`Redis ${TEST_REDIS_URL}, key prefix ${redis.prefix}`);
    }

    const identity = newBenchIdentity();
    const env: NodeJS.ProcessEnv = {
      ...identityEnv(process.env, identity),
      DATABASE_URL: db.url,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    };
    for (const name of ['SWITCHYARD_DATA_DIR', 'SWITCHYARD_SERVICES', 'SWITCHYARD_BUS', 'NODE_ENV']) {
      delete env[name];
    }
    const serverEnv: NodeJS.ProcessEnv = redis
      ? { ...env, REDIS_URL: TEST_REDIS_URL, SWITCHYARD_REDIS_KEY_PREFIX: redis.prefix }
      : env;
    const profile = async (name: string): Promise<string[]> => {
      if (!options.cpuProfDir) return [];
      await mkdir(options.cpuProfDir, { recursive: true });
      return ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`, `--cpu-prof-name=${name}.cpuprofile`];
    };
    const stopped = async (child: Child) => {
      const status = await stopChild(child, say);
      if (status.code !== 0)
        failures.push(`${child.name} exited with code ${status.code}, signal ${status.signal}`);
    };

    // The two servers; with --restart, started afresh for every round.
    let switchyard: { child: Child; url: string } | undefined;
    let baseline: { child: Child; url: string } | undefined;
    cleanup.push(async () => {
      if (baseline) await stopped(baseline.child);
      if (switchyard) await stopped(switchyard.child);
    });
    const startSwitchyard = async () => {
      say(`starting Switchyard (apps/server/src/main.ts start, ${redis ? 'Redis' : 'memory'} cache)`);
      const { child, value } = await startChild({
        name: 'switchyard server',
        args: [SERVER_MAIN, 'start'],
        env: serverEnv,
        nodeArgs: await profile(`switchyard-${redis ? 'redis' : 'memory'}-${Date.now()}`),
        ready: (entry) =>
          entry.msg === 'switchyard started' && typeof entry.url === 'string' ? entry.url : undefined,
      });
      switchyard = { child, url: value };
      say(`Switchyard listens on ${value}`);
      return switchyard;
    };
    const startBaseline = async (userId: string, role: string) => {
      say('starting the baseline (bench/users-baseline-server.ts)');
      const { child, value } = await startChild({
        name: 'baseline server',
        args: [BASELINE_SERVER, '--user-id', userId, '--role', role],
        env,
        nodeArgs: await profile(`baseline-${Date.now()}`),
        ready: (entry) =>
          entry.msg === 'users baseline started' && typeof entry.url === 'string' ? entry.url : undefined,
      });
      baseline = { child, url: value };
      say(`baseline listens on ${value}`);
      return baseline;
    };

    const first = await startSwitchyard();
    const admin = await signIn(first.url, identity);
    const adminPath = `/api/v1/users/${admin.user.id}`;
    say(`signed in as ${identity.email} (${admin.user.role}, user ${admin.user.id})`);
    await startBaseline(admin.user.id, admin.user.role);
    const servers = () => {
      if (!switchyard || !baseline) throw new BenchError('the servers are not running');
      return { switchyard, baseline };
    };
    const switchyardUrl = () => servers().switchyard.url;
    await checkSameAnswer(switchyardUrl(), servers().baseline.url, adminPath, bearer(admin.access_token));
    const restart = async () => {
      const { switchyard: oldServer, baseline: oldBaseline } = servers();
      switchyard = undefined;
      baseline = undefined;
      await stopped(oldBaseline.child);
      await stopped(oldServer.child);
      await startSwitchyard();
      await startBaseline(admin.user.id, admin.user.role);
      await checkSameAnswer(switchyardUrl(), servers().baseline.url, adminPath, adminHeaders());
    };

    // The warm scenario's token, renewed by refresh once it is 10 minutes old.
    let current = { pair: admin, at: performance.now() };
    const adminHeaders = () => bearer(current.pair.access_token);
    const renewAdmin = async () => {
      if (performance.now() - current.at < TOKEN_RENEW_AFTER_MS) return;
      current = {
        pair: await refreshTokens(switchyardUrl(), current.pair.refresh_token),
        at: performance.now(),
      };
      say('renewed the access token of the warm scenario');
    };

    const pool = createPool({
      connectionString: db.url,
      maxConnections: 2,
      applicationName: 'switchyard-bench',
    });
    cleanup.push(() => pool.end());
    const postgres =
      (await pool.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v.split(
        ' ',
      )[0] ?? '?';
    const cpuPids: Record<string, number[]> = {};
    if (redis) cpuPids.redis = await findPids('redis-server');

    /** Where a plan's requests go, with what the measurement needs of it, for the servers running now. */
    const at = (on: Plan['on']): { m: Measure; server: Child } => {
      const { switchyard: sy, baseline: base } = servers();
      const target = on === 'switchyard' ? sy : base;
      return {
        server: target.child,
        m: {
          url: target.url,
          options,
          pool,
          database: db.name,
          cpuPids,
          serverPids: [...pidsOf(sy.child), ...pidsOf(base.child)],
          failures,
          ...(redis && on === 'switchyard'
            ? { redisCommands: () => redisCommands(sy.url, adminHeaders()) }
            : {}),
        },
      };
    };

    const fixedTarget = (target: Target) => () => target;
    const baselinePlan: Plan = {
      scenario: 'baseline',
      label: 'baseline (no auth)',
      on: 'baseline',
      // The same header as the warm scenario; the baseline's authenticate ignores it.
      next: () => ({ path: adminPath, headers: adminHeaders() }),
      beforeWarmup: renewAdmin,
    };
    const prepare = async (scenario: Scenario): Promise<Plan> => {
      if (scenario === 'warm') {
        return {
          scenario,
          label: 'auth warm: one access token',
          on: 'switchyard',
          next: () => ({ path: adminPath, headers: adminHeaders() }),
          beforeWarmup: renewAdmin,
        };
      }
      if (scenario === 'api-key') {
        const key = await createApiKey(switchyardUrl(), current.pair.access_token, {
          name: 'bench auth',
          role: 'admin',
        });
        return {
          scenario,
          label: 'auth warm: one API key',
          on: 'switchyard',
          next: fixedTarget({ path: adminPath, headers: { 'x-api-key': key } }),
        };
      }
      if (scenario === 'cold-token') {
        if (options.coldTokens <= VERIFIED_TOKEN_MEMO + options.connections) {
          say(
            `warning: ${options.coldTokens} cold tokens are not more than the ${VERIFIED_TOKEN_MEMO} the ` +
              'authenticator remembers: some requests will skip the signature check',
          );
        }
        const mint = async () => {
          say(
            `cold-token: signing in ${COLD_TOKEN_SESSIONS} sessions, signing ${fixed(options.coldTokens)} tokens`,
          );
          const tokens = await coldTokens(switchyardUrl(), pool, identity, options.coldTokens);
          setup.coldTokens = { count: tokens.tokens.length, sessions: tokens.sessions, ms: tokens.ms };
          say(`cold-token: ${fixed(tokens.tokens.length)} tokens in ${fixed(tokens.ms / 1000, 1)} s`);
          return { tokens: tokens.tokens, at: performance.now() };
        };
        let minted = await mint();
        let next = 0;
        return {
          scenario,
          label: `auth cold token: ${fixed(minted.tokens.length)} tokens round robin`,
          on: 'switchyard',
          next: () => {
            const token = minted.tokens[next % minted.tokens.length] ?? '';
            next += 1;
            return { path: adminPath, headers: bearer(token) };
          },
          beforeWarmup: async () => {
            if (performance.now() - minted.at >= TOKEN_RENEW_AFTER_MS) minted = await mint();
          },
        };
      }
      // cold-cache: before each warm-up, enough fresh identities for it at the fastest rate seen so far;
      // after it, enough for the measured run at the warm-up's rate; both with headroom.
      const cold = coldIdentities(pool, identity);
      let next = 0;
      let addedAt = performance.now();
      const topUp = async (needed: number, what: string) => {
        const more = Math.min(COLD_IDENTITIES_MAX, needed) - cold.identities.length;
        if (more <= 0) return;
        say(`cold-cache: preparing ${fixed(more)} users, sessions and tokens for the ${what}`);
        await cold.add(more);
        addedAt = performance.now();
      };
      return {
        scenario,
        label: 'auth cold cache: new user + session + token per request',
        on: 'switchyard',
        next: () => {
          const fresh = cold.identities[next % cold.identities.length];
          next += 1;
          return { path: `/api/v1/users/${fresh?.userId ?? ''}`, headers: bearer(fresh?.token ?? '') };
        },
        beforeWarmup: async () => {
          // Identities left over from an earlier round whose tokens are about to expire are skipped.
          if (performance.now() - addedAt >= TOKEN_RENEW_AFTER_MS)
            next = Math.max(next, cold.identities.length);
          const authenticated = runs.filter((run) => run.scenario !== 'baseline');
          const fastest = Math.max(
            0,
            ...(authenticated.length > 0 ? authenticated : runs).map((run) => run.result.requests.mean),
          );
          await topUp(
            next + Math.max(COLD_IDENTITIES_MIN, Math.ceil(fastest * WARMUP_SECONDS * COLD_HEADROOM)),
            'warm-up',
          );
        },
        afterWarmup: (warmup) =>
          topUp(
            Math.ceil(
              next + (warmup.requests.total / warmup.duration) * options.durationSeconds * COLD_HEADROOM,
            ),
            'measured run',
          ),
        afterRun: (run) => {
          const prepared = cold.identities.length;
          setup.coldIdentities = { prepared, used: next, ms: cold.ms };
          if (next > prepared) {
            run.note = `identities ran out after ${fixed(prepared)} requests: the last ${fixed(next - prepared)} reused cached ones`;
            say(`warning: cold-cache: ${run.note}`);
          }
        },
      };
    };
    const plans = new Map<Scenario, Plan>();
    const planFor = async (scenario: Scenario): Promise<Plan> => {
      const known = plans.get(scenario) ?? (await prepare(scenario));
      plans.set(scenario, known);
      return known;
    };

    for (let round = 1; round <= options.rounds; round++) {
      if (options.rounds > 1) say(`round ${round} of ${options.rounds}`);
      if (round > 1 && options.restart) await restart();
      runs.push(await measure(baselinePlan, round, at));
      for (const scenario of options.scenarios) {
        checkInterrupted();
        runs.push(await measure(await planFor(scenario), round, at));
      }
    }
    runs.push(await measure(baselinePlan, options.rounds + 1, at));
    return postgres;
  } finally {
    for (const step of cleanup.reverse()) {
      await step().catch((error: unknown) => {
        failures.push(`cleanup: ${(error as Error).message}`);
      });
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

/** Cores that processes other than the bench's own used during a run: another load skews the figures. */
function otherCores(run: Run): number | undefined {
  return run.cpu?.byGroup.find((group) => group.name === 'other processes')?.cores;
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
}

/** Text columns, the first `left` of them aligned left, the others right. */
function table(headers: string[], rows: string[][], left = 1): string[] {
  const widths = headers.map((_, i) => Math.max(...[headers, ...rows].map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i < left ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [
    line(headers),
    line(headers.map((header, i) => (i < left && i === 0 ? '' : '-'.repeat(widths[i] ?? header.length)))),
    ...rows.map(line),
  ];
}

/** Median Redis commands per request over a scenario's runs, by command: `incr 1.00, get 0.01`. */
function redisPerRequest(group: Run[]): string {
  const commands = new Set(group.flatMap((run) => [...(run.redis?.keys() ?? [])]));
  const parts = [...commands]
    .map((command) => ({
      command,
      n: median(group.map((run) => (run.redis?.get(command) ?? 0) / Math.max(1, run.result.requests.total))),
    }))
    .filter((part) => part.n >= 0.005)
    .sort((a, b) => b.n - a.n)
    .map((part) => `${part.command} ${fixed(part.n, 2)}`);
  return group.some((run) => run.redis) ? parts.join(', ') || 'none' : '-';
}

/** Reads of auth.sessions and users.users per request of a run. */
function readsPerRequest(run: Run): { sessions: number; users: number } | undefined {
  const requests = run.result.requests.total;
  if (!run.lookups || requests === 0) return undefined;
  return { sessions: run.lookups.sessions / requests, users: run.lookups.users / requests };
}

function printReport(options: Options, runs: Run[], setup: Setup, postgres: string | undefined): void {
  // One row per scenario, in the order they ran; medians over the rounds.
  const groups: Run[][] = [];
  for (const run of runs) {
    const group = groups.find((candidate) => candidate[0]?.label === run.label);
    if (group) group.push(run);
    else groups.push([run]);
  }
  const baselines = runs.filter((run) => run.scenario === 'baseline');
  const baselineRate = median(baselines.map((run) => run.result.requests.mean));
  const baselineUs = median(baselines.flatMap((run) => run.serverCpuPerRequestUs ?? []));
  const share = (group: Run[]) => median(group.map((run) => run.result.requests.mean)) / baselineRate;
  const perRequest = (group: Run[], pick: 'sessions' | 'users') =>
    median(group.flatMap((run) => readsPerRequest(run)?.[pick] ?? []));

  const summary = table(
    [
      'scenario',
      'runs',
      'requests/s',
      'p50 ms',
      'p99 ms',
      '% of baseline',
      'server CPU µs/request',
      'DB reads/request (session, user)',
      'non-2xx',
      'other CPU (max)',
      ...(options.redis ? ['Redis commands/request'] : []),
    ],
    groups.map((group) => {
      const first = group[0] as Run;
      return [
        first.label,
        String(group.length),
        fixed(median(group.map((run) => run.result.requests.mean))),
        fixed(median(group.map((run) => run.result.latency.p50)), 1),
        fixed(median(group.map((run) => run.result.latency.p99)), 1),
        first.scenario === 'baseline' ? '-' : `${fixed(100 * share(group), 1)} %`,
        fixed(median(group.flatMap((run) => run.serverCpuPerRequestUs ?? []))),
        `${fixed(perRequest(group, 'sessions'), 2)}, ${fixed(perRequest(group, 'users'), 2)}`,
        fixed(group.reduce((sum, run) => sum + run.result.non2xx, 0)),
        fixed(Math.max(...group.map((run) => otherCores(run) ?? Number.NaN)), 2),
        ...(options.redis ? [redisPerRequest(group)] : []),
      ];
    }),
  );
  const cpu = cpus();
  const cache = options.redis
    ? `Redis (${TEST_REDIS_URL}) with its in-process first level`
    : 'process memory';
  const out: string[] = [
    '',
    `GET /api/v1/users/{id}, ${options.connections} connections, ${options.durationSeconds} s measured after a ` +
      `${WARMUP_SECONDS} s warm-up per run, ${options.rounds} round(s)` +
      `${options.restart && options.rounds > 1 ? ' (both servers restarted for every round)' : ''}; Switchyard cache: ${cache}; ` +
      'baseline cache: process memory',
    `node ${process.version}, ${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown CPU'}, PostgreSQL ${postgres ?? '?'} (machine, 127.0.0.1:5432)`,
    `load average (1, 5, 15 min) at start ${startLoad}, at end ${loadAverage()}`,
    `code: ${startVersion} at start, ${codeVersion()} at end`,
    '',
    ...summary,
    '',
    `% of baseline: median requests/s over the median of the ${baselines.length} baseline runs ` +
      `(${fixed(baselineRate)} requests/s, ${fixed(baselineUs)} µs of server CPU per request). ` +
      'Server CPU: the loaded server process, from /proc, over its requests.',
  ];
  if (options.rounds > 1) {
    out.push(
      '',
      'every run:',
      ...table(
        ['round', 'scenario', 'requests/s', 'p50 ms', 'p99 ms', 'server CPU µs/request', 'other CPU'],
        runs.map((run) => [
          String(run.round),
          run.label,
          fixed(run.result.requests.mean),
          fixed(run.result.latency.p50, 1),
          fixed(run.result.latency.p99, 1),
          run.serverCpuPerRequestUs === undefined ? 'n/a' : fixed(run.serverCpuPerRequestUs),
          fixed(otherCores(run) ?? Number.NaN, 2),
        ]),
        2,
      ),
    );
  }
  out.push('');
  const contended = runs.filter((run) => (otherCores(run) ?? 0) > CONTENDED_CORES);
  if (contended.length > 0) {
    out.push(
      `warning: other processes used more than ${CONTENDED_CORES} cores during ${contended.length} of ${runs.length} runs ` +
        '(other CPU): their figures are low (the machine has 2 cores); run again on a quiet machine',
    );
  }
  for (const run of runs) if (run.note) out.push(`${run.label} (round ${run.round}): ${run.note}`);
  if (setup.coldTokens) {
    out.push(
      `cold token: ${fixed(setup.coldTokens.count)} access tokens of ${setup.coldTokens.sessions} sessions ` +
        `(sign-ins), signed in ${fixed(setup.coldTokens.ms / 1000, 1)} s before the first run`,
    );
    if (setup.coldTokens.count <= VERIFIED_TOKEN_MEMO + options.connections) {
      out.push(
        `warning: ${fixed(setup.coldTokens.count)} cold tokens do not exceed the ${fixed(VERIFIED_TOKEN_MEMO)} verified ` +
          'tokens the authenticator remembers: after the first pass, cold-token requests skip the signature check',
      );
    }
  }
  if (setup.coldIdentities) {
    out.push(
      `cold cache: ${fixed(setup.coldIdentities.prepared)} users + sessions + tokens prepared in ` +
        `${fixed(setup.coldIdentities.ms / 1000, 1)} s between runs; ${fixed(setup.coldIdentities.used)} requests used them (warm-ups included)`,
    );
  }
  for (const run of runs) {
    if (!run.cpu) continue;
    const parts = run.cpu.byGroup.map((group) => `${group.name} ${fixed(group.cores, 2)}`).join(', ');
    out.push(
      `cpu during "${run.label}" (round ${run.round}), in cores (of ${run.cpu.cores}): busy ${fixed(run.cpu.busy, 2)}: ${parts}`,
    );
  }
  const judged = groups.filter((group) => group[0]?.scenario === 'warm' || group[0]?.scenario === 'api-key');
  if (judged.length > 0 && Number.isFinite(baselineRate)) {
    const warm = judged.find((group) => group[0]?.scenario === 'warm') ?? judged[0] ?? [];
    const met = share(warm) >= AIM_SHARE;
    const parts = judged.map((group) => `${group[0]?.label} ${fixed(100 * share(group), 1)} %`);
    out.push(
      '',
      `aim: auth + cache cost <= ${fixed(100 * (1 - AIM_SHARE))} % of throughput (authenticated with a warm cache ` +
        `>= ${fixed(100 * AIM_SHARE)} % of baseline requests/s): ${met ? 'MET' : 'NOT MET'} (${parts.join('; ')})`,
    );
  }
  if (Number.isFinite(baselineUs)) {
    for (const group of groups) {
      const first = group[0];
      if (!first || first.scenario === 'baseline') continue;
      const us = median(group.flatMap((run) => run.serverCpuPerRequestUs ?? []));
      const extra = us - baselineUs;
      out.push(
        `  ${first.label}: server CPU per request ${fixed(us)} µs, ${extra >= 0 ? '+' : ''}${fixed(extra)} µs ` +
          `(${extra >= 0 ? '+' : ''}${fixed((100 * extra) / baselineUs, 1)} %) against the baseline`,
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
  const runs: Run[] = [];
  const setup: Setup = {};
  let postgres: string | undefined;
  try {
    postgres = await benchAuth(options, runs, setup, failures);
  } catch (error) {
    failures.push(error instanceof Error ? error.message : String(error));
  }
  printReport(options, runs, setup, postgres);
  if (options.cpuProfDir) process.stdout.write(`CPU profiles of both servers in ${options.cpuProfDir}\n`);
  if (failures.length > 0) {
    process.stdout.write(`\nFAILED:\n${failures.map((failure) => `  - ${failure}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();

import type { BatchEventHandler, Bus, EventHandler, GroupLag } from '@switchyard/bus';
import { afterCommit, type Clock, type HttpApp, type Pool, type ReadinessCheck } from '@switchyard/kernel';
import Type, { type Static } from 'typebox';

/**
 * `GET /api/v1/system/overview`: what the dashboard's overview shows an operator — the process (version,
 * mode, uptime), each dependency and running service, how far behind each consumer group is, and how many
 * events went through in each of the last 60 minutes.
 *
 * Throughput, and why it is measured this way:
 * - published: the outbox is where every event of every bus (PostgreSQL, Kafka, RabbitMQ) is first
 *   written, and its `position` identity takes one value per row from a sequence. Reading the sequence's
 *   last value is one cheap query whatever the size of the outbox (grouping outbox rows by `created_at`
 *   would scan an unindexed column every 5 s), and it counts what the whole installation published, from
 *   every process. A sampler reads it every 10 s (and on each request) and adds the difference to the
 *   current minute. A rolled-back insert also takes a number, so a failed write may count; that is rare.
 *   What was published before this process started is not in its history.
 * - handled: counted in this process, as each consumer's handler commits (an `afterCommit` hook, so a
 *   batch that is rolled back and handled again one event at a time counts once). `processed_events`
 *   has no index on time, and this process is the one that knows; in scale-out each process reports the
 *   events its own consumers handled.
 * Both live in a ring of 60 per-minute buckets in memory: a restart starts the history again.
 */

export const THROUGHPUT_MINUTES = 60;
const MINUTE_MS = 60_000;
/** A group this many events behind marks its service as degraded. */
export const LAGGING_THRESHOLD = 1_000;
const CHECK_TIMEOUT_MS = 2_000;
const SAMPLE_INTERVAL_MS = 10_000;

// ---------------------------------------------------------------------------------------------------
// Pure parts: the ring of per-minute counts and the status decisions.

export interface MinuteCounts {
  /** Start of the minute, epoch ms. */
  startMs: number;
  published: number;
  handled: number;
}

export interface ThroughputRing {
  add(kind: 'published' | 'handled', count: number, atMs: number): void;
  /** The last `THROUGHPUT_MINUTES` minutes up to the one holding `nowMs`, oldest first, empty ones as 0. */
  series(nowMs: number): MinuteCounts[];
}

export function createThroughputRing(minutes = THROUGHPUT_MINUTES): ThroughputRing {
  const buckets = new Map<number, MinuteCounts>();
  const minuteOf = (ms: number) => Math.floor(ms / MINUTE_MS) * MINUTE_MS;
  return {
    add(kind, count, atMs) {
      if (count <= 0) return;
      const startMs = minuteOf(atMs);
      const bucket = buckets.get(startMs) ?? { startMs, published: 0, handled: 0 };
      bucket[kind] += count;
      buckets.set(startMs, bucket);
      const oldest = startMs - (minutes - 1) * MINUTE_MS;
      for (const key of buckets.keys()) if (key < oldest) buckets.delete(key);
    },
    series(nowMs) {
      const last = minuteOf(nowMs);
      return Array.from({ length: minutes }, (_, index) => {
        const startMs = last - (minutes - 1 - index) * MINUTE_MS;
        const bucket = buckets.get(startMs);
        return { startMs, published: bucket?.published ?? 0, handled: bucket?.handled ?? 0 };
      });
    },
  };
}

/**
 * Turns successive readings of an ever-growing total into increments: the first reading is the baseline,
 * and a reading below the previous one (the sequence was reset) starts a new baseline.
 */
export function createDeltaCounter(): (total: bigint) => number {
  let previous: bigint | undefined;
  return (total) => {
    const delta = previous === undefined || total < previous ? 0n : total - previous;
    previous = total;
    return Number(delta);
  };
}

export type ServiceStatus = 'ok' | 'degraded';

/** A service is degraded when one of its groups is far behind or has dead letters waiting. */
export function serviceStatus(groups: { waiting: number | null; dead_letters: number }[]): ServiceStatus {
  return groups.some(
    (group) => (group.waiting !== null && group.waiting >= LAGGING_THRESHOLD) || group.dead_letters > 0,
  )
    ? 'degraded'
    : 'ok';
}

export type RuntimeMode = 'embedded' | 'scale-out';

/** Embedded: one process with every service, the PostgreSQL bus and the in-memory cache. */
export function runtimeMode(options: {
  busKind: Bus['kind'];
  redis: boolean;
  allServices: boolean;
}): RuntimeMode {
  return options.busKind === 'postgres' && !options.redis && options.allServices ? 'embedded' : 'scale-out';
}

// ---------------------------------------------------------------------------------------------------
// Schemas.

const Status = Type.Union([Type.Literal('ok'), Type.Literal('failing')]);
const DependencySchema = Type.Object({
  name: Type.String({ description: 'database, migrations, cache or bus' }),
  status: Status,
  detail: Type.String({ description: 'What it is (e.g. "redis", "kafka")' }),
  latency_ms: Type.Number({ description: 'How long the check took' }),
});
const ConsumerGroupSchema = Type.Object({
  group: Type.String(),
  service: Type.Union([Type.String(), Type.Null()], { description: 'The service that subscribed it' }),
  topics: Type.Array(Type.String()),
  waiting: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Events waiting for the group; null when the bus cannot tell cheaply',
  }),
  capped: Type.Boolean({ description: 'At least `waiting`: counting stopped there' }),
  reason: Type.Union([Type.String(), Type.Null()]),
  dead_letters: Type.Integer({ description: 'Dead letters of the group waiting for a replay' }),
});
const ServiceSchema = Type.Object({
  name: Type.String(),
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  groups: Type.Array(Type.String()),
});
const MinuteSchema = Type.Object({
  start: Type.String({ format: 'date-time' }),
  published: Type.Integer(),
  handled: Type.Integer(),
});
export const OverviewSchema = Type.Object({
  version: Type.String(),
  mode: Type.Union([Type.Literal('embedded'), Type.Literal('scale-out')]),
  bus: Type.Union([Type.Literal('postgres'), Type.Literal('kafka'), Type.Literal('rabbitmq')]),
  started_at: Type.String({ format: 'date-time' }),
  uptime_seconds: Type.Integer(),
  generated_at: Type.String({ format: 'date-time' }),
  dependencies: Type.Array(DependencySchema),
  services: Type.Array(ServiceSchema),
  consumer_groups: Type.Array(ConsumerGroupSchema),
  throughput: Type.Object({
    minutes: Type.Array(MinuteSchema, { description: 'The last 60 minutes, oldest first' }),
    published_last_hour: Type.Integer({ description: 'Events the installation published (outbox)' }),
    handled_last_hour: Type.Integer({ description: "Events this process's consumers handled" }),
  }),
});
export type Overview = Static<typeof OverviewSchema>;

// ---------------------------------------------------------------------------------------------------
// I/O: the sampler, the handler counter and the route.

export interface OverviewOptions {
  pool: Pool;
  bus: Bus;
  clock: Clock;
  version: string;
  mode: RuntimeMode;
  startedAt: Date;
  /** The readiness checks, with what each dependency is (shown beside its name). */
  checks: (ReadinessCheck & { detail: string })[];
  /** Each running service and the consumer groups it subscribed. */
  services: { name: string; groups: string[] }[];
}

/** Wraps subscriptions' handlers so what they handle is counted once their transaction commits. */
export interface HandledCounter {
  counted(handler: EventHandler): EventHandler;
  /** The same for a subscription's batch handler: each of its events counts once. */
  countedBatch(handler: BatchEventHandler): BatchEventHandler;
}

export interface OverviewRecorder extends HandledCounter {
  ring: ThroughputRing;
}

/** Counts handled events into `onHandled`, after the handler's transaction commits. */
export function createHandledCounter(onHandled: (count: number) => void): HandledCounter {
  return {
    counted(handler) {
      return async (event, context) => {
        await handler(event, context);
        const count = () => onHandled(1);
        if (!afterCommit(context.tx, count)) count();
      };
    },
    countedBatch(handler) {
      return async (events, context) => {
        await handler(events, context);
        const count = () => onHandled(events.length);
        if (!afterCommit(context.tx, count)) count();
      };
    },
  };
}

export function createOverviewRecorder(clock: Clock): OverviewRecorder {
  const ring = createThroughputRing();
  return { ring, ...createHandledCounter((count) => ring.add('handled', count, clock().getTime())) };
}

async function timed(check: () => Promise<boolean>): Promise<{ ok: boolean; ms: number }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
  });
  const ok = await Promise.race([check().catch(() => false), timeout]);
  clearTimeout(timer);
  return { ok, ms: Math.round((performance.now() - started) * 10) / 10 };
}

async function publishedTotal(pool: Pool): Promise<bigint> {
  const result = await pool.query<{ total: string | null }>(
    `SELECT pg_sequence_last_value(pg_get_serial_sequence('bus.outbox', 'position')::regclass)::text AS total`,
  );
  return BigInt(result.rows[0]?.total ?? '0');
}

async function waitingDeadLetters(pool: Pool): Promise<Map<string, number>> {
  const result = await pool.query<{ consumer_group: string; n: number }>(
    'SELECT consumer_group, count(*)::int AS n FROM bus.dead_letters WHERE replayed_at IS NULL GROUP BY 1',
  );
  return new Map(result.rows.map((row) => [row.consumer_group, row.n]));
}

/** Registers the route and starts the sampler; the returned function stops it. */
export function registerOverviewRoutes(
  app: HttpApp,
  recorder: OverviewRecorder,
  options: OverviewOptions,
): () => void {
  const { pool, bus, clock } = options;
  const delta = createDeltaCounter();
  let sampling: Promise<void> | undefined;

  function sample(): Promise<void> {
    sampling ??= publishedTotal(pool)
      .then((total) => recorder.ring.add('published', delta(total), clock().getTime()))
      .catch(() => {})
      .finally(() => {
        sampling = undefined;
      });
    return sampling;
  }
  void sample();
  const timer = setInterval(() => void sample(), SAMPLE_INTERVAL_MS);
  timer.unref();

  const serviceOf = new Map(
    options.services.flatMap((service) => service.groups.map((group) => [group, service.name] as const)),
  );

  app.get(
    '/api/v1/system/overview',
    {
      schema: {
        tags: ['operations'],
        summary: 'Health of dependencies and services, consumer lag and the last hour of throughput',
        response: { 200: OverviewSchema },
      },
      config: { permission: 'metrics:read' },
    },
    async (): Promise<Overview> => {
      let lags: GroupLag[] = [];
      const lagCheck = timed(async () => {
        lags = (await bus.lag?.()) ?? [];
        return true;
      });
      const [checks, busCheck, deadLetters] = await Promise.all([
        Promise.all(options.checks.map(async (check) => ({ check, result: await timed(check.check) }))),
        lagCheck,
        waitingDeadLetters(pool).catch(() => new Map<string, number>()),
        sample(),
      ]);
      const now = clock();
      const groups = lags.map((lag) => ({
        group: lag.group,
        service: serviceOf.get(lag.group) ?? null,
        topics: lag.topics,
        waiting: lag.waiting,
        capped: lag.capped,
        reason: lag.reason ?? null,
        dead_letters: deadLetters.get(lag.group) ?? 0,
      }));
      const minutes = recorder.ring.series(now.getTime());
      return {
        version: options.version,
        mode: options.mode,
        bus: bus.kind,
        started_at: options.startedAt.toISOString(),
        uptime_seconds: Math.max(0, Math.floor((now.getTime() - options.startedAt.getTime()) / 1000)),
        generated_at: now.toISOString(),
        dependencies: [
          ...checks.map(({ check, result }) => ({
            name: check.name,
            status: result.ok ? ('ok' as const) : ('failing' as const),
            detail: check.detail,
            latency_ms: result.ms,
          })),
          {
            name: 'bus',
            status: busCheck.ok ? ('ok' as const) : ('failing' as const),
            detail: bus.kind,
            latency_ms: busCheck.ms,
          },
        ],
        services: options.services.map((service) => ({
          name: service.name,
          status: serviceStatus(groups.filter((group) => group.service === service.name)),
          groups: service.groups,
        })),
        consumer_groups: groups,
        throughput: {
          minutes: minutes.map((minute) => ({
            start: new Date(minute.startMs).toISOString(),
            published: minute.published,
            handled: minute.handled,
          })),
          published_last_hour: minutes.reduce((sum, minute) => sum + minute.published, 0),
          handled_last_hour: minutes.reduce((sum, minute) => sum + minute.handled, 0),
        },
      };
    },
  );

  return () => clearInterval(timer);
}

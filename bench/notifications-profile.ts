// Where the time of bench/notifications.ts's end-to-end run goes, read from PostgreSQL without touching
// the server: samplers that run during the load (what Switchyard's sessions do, the oldest transaction
// holding an xid, each consumer group's backlog), and, after it, the timestamps the pipeline writes
// anyway, per notification and per consumer pass.
//
// The timestamps, all from the one machine clock:
//   notifications.requests.created_at        the accept (server clock, before the 202)
//   bus.processed_events.processed_at        now() of the consumer pass that took the event: its start
//   notifications.deliveries.queued_at       the dispatch handler queued the email work
//   notifications.attempts.at                the email worker reported the send (after SMTP's 250)
//   notifications.deliveries.updated_at      the status consumer recorded the outcome
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';

/** The consumer groups on the `notifications` topic (services/notifications and services/delivery). */
export const NOTIFICATION_GROUPS = [
  'notification-dispatch',
  'delivery-email',
  'notification-status',
  'delivery-push',
  'delivery-sms',
  'delivery-webhook',
] as const;

export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0)
    return { count: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
  return {
    count: sorted.length,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
  };
}

// ---- samplers during the load ------------------------------------------------------------------------------

export interface SessionSample {
  /** Switchyard's non-idle sessions: "<state or wait>: <statement>", share of all such samples. */
  activity: { what: string; share: number }[];
  /** Switchyard sessions not idle, on average per sample (of the pool's 20 connections). */
  busySessions: number;
  /**
   * Age of the oldest transaction holding an xid, anywhere on the PostgreSQL server: outbox readers see
   * only events of transactions older than it (`txid < pg_snapshot_xmin(...)`), so a new event waits
   * at least until it ends.
   */
  oldestXid: Percentiles;
  /** Samples in which that oldest transaction was not Switchyard's (another database or client). */
  oldestXidForeignShare: number;
  /** Backlog per consumer group (events of `notifications` after its offset), sampled each second. */
  backlog: { group: string; max: number; last: number; meanDuringLoad: number }[];
  samples: number;
}

/** Events of the `notifications` topic after each consumer group's offset. */
export async function groupBacklog(client: pg.Client): Promise<Record<string, number>> {
  const result = await client.query<{ consumer_group: string; behind: number }>(
    `SELECT c.consumer_group,
            (SELECT count(*) FROM bus.outbox o
              WHERE o.topic = 'notifications' AND (o.txid, o.position) > (c.last_txid, c.last_position))::int AS behind
       FROM bus_postgres.consumer_offsets c WHERE c.consumer_group = ANY($1::text[])`,
    [NOTIFICATION_GROUPS],
  );
  return Object.fromEntries(result.rows.map((row) => [row.consumer_group, row.behind]));
}

function statementLabel(query: string | null): string {
  const text = (query ?? '').replace(/\s+/g, ' ').trim();
  return text.length > 70 ? `${text.slice(0, 70)}…` : text;
}

/**
 * Samples pg_stat_activity every 100 ms and the consumer groups' backlog every second until `stop()`.
 * `client` must be a connection of its own (queries here run one after another).
 */
export function sampleDuringLoad(client: pg.Client): { stop(): void; done: Promise<SessionSample> } {
  let stopped = false;
  const tally = new Map<string, number>();
  let sessions = 0;
  let samples = 0;
  const oldest: number[] = [];
  let foreignOldest = 0;
  const backlog = new Map<string, number[]>();

  const loop = async (): Promise<SessionSample> => {
    let lastBacklogAt = 0;
    while (!stopped) {
      const result = await client
        .query<{
          ours: boolean;
          state: string | null;
          type: string | null;
          event: string | null;
          query: string | null;
          xact_ms: number | null;
          has_xid: boolean;
        }>(
          `SELECT (a.datname = current_database() AND a.application_name = 'switchyard') AS ours,
                  a.state, a.wait_event_type AS type, a.wait_event AS event, a.query,
                  (extract(epoch FROM clock_timestamp() - a.xact_start) * 1000)::float8 AS xact_ms,
                  a.backend_xid IS NOT NULL AS has_xid
             FROM pg_stat_activity a
            WHERE a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'
              AND a.state IS DISTINCT FROM 'idle'`,
        )
        .catch(() => undefined);
      if (!result) break;
      samples += 1;
      let oldestMs = 0;
      let oldestOurs = true;
      for (const row of result.rows) {
        if (row.has_xid && (row.xact_ms ?? 0) > oldestMs) {
          oldestMs = row.xact_ms ?? 0;
          oldestOurs = row.ours;
        }
        if (!row.ours) continue;
        const state =
          row.state === 'active'
            ? row.type === null
              ? 'active'
              : `waiting ${row.type}/${row.event}`
            : (row.state ?? '?');
        const what = `${state}: ${statementLabel(row.query)}`;
        tally.set(what, (tally.get(what) ?? 0) + 1);
        sessions += 1;
      }
      oldest.push(oldestMs);
      if (!oldestOurs) foreignOldest += 1;

      if (performance.now() - lastBacklogAt >= 1000) {
        lastBacklogAt = performance.now();
        const behind = await groupBacklog(client).catch(() => undefined);
        for (const [group, n] of Object.entries(behind ?? {})) {
          const list = backlog.get(group) ?? [];
          list.push(n);
          backlog.set(group, list);
        }
      }
      await sleep(100);
    }
    return {
      activity: [...tally.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([what, n]) => ({ what, share: sessions === 0 ? 0 : n / sessions })),
      busySessions: samples === 0 ? 0 : sessions / samples,
      oldestXid: percentiles(oldest),
      oldestXidForeignShare: samples === 0 ? 0 : foreignOldest / samples,
      backlog: NOTIFICATION_GROUPS.map((group) => {
        const values = backlog.get(group) ?? [];
        return {
          group,
          max: Math.max(0, ...values),
          last: values.at(-1) ?? 0,
          meanDuringLoad: values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length,
        };
      }),
      samples,
    };
  };
  const done = loop();
  return {
    stop() {
      stopped = true;
    },
    done,
  };
}

// ---- after the load ----------------------------------------------------------------------------------------

/** Epoch ms of each step of one email notification; null when the step has not happened (yet). */
export interface Timeline {
  requestId: string;
  accepted: number;
  dispatchPass: number | null;
  queued: number | null;
  emailPass: number | null;
  attempted: number | null;
  statusPass: number | null;
  statusRecorded: number | null;
  status: string;
}

/** The timeline of every email delivery of the requests accepted since `sinceMs` (epoch ms). */
export async function timelines(client: pg.Client, sinceMs: number): Promise<Timeline[]> {
  const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;
  const result = await client.query<{
    request_id: string;
    accepted: number;
    dispatch_pass: number | null;
    queued: number | null;
    email_pass: number | null;
    attempted: number | null;
    status_pass: number | null;
    status_recorded: number | null;
    status: string;
  }>(
    `WITH r AS (
       SELECT request_id, created_at FROM notifications.requests WHERE created_at >= to_timestamp($1::float8 / 1000)
     ), d AS (
       SELECT d.id, d.request_id, d.queued_at, d.updated_at, d.status
         FROM notifications.deliveries d JOIN r USING (request_id) WHERE d.channel = 'email'
     ), o AS MATERIALIZED (
       SELECT event_id, envelope->>'type' AS type, envelope->>'subject' AS subject
         FROM bus.outbox WHERE topic = 'notifications' AND created_at >= to_timestamp($1::float8 / 1000)
     )
     SELECT DISTINCT ON (r.request_id) r.request_id,
            ${ms('r.created_at')} AS accepted,
            ${ms('pd.processed_at')} AS dispatch_pass,
            ${ms('d.queued_at')} AS queued,
            ${ms('pe.processed_at')} AS email_pass,
            ${ms('a.at')} AS attempted,
            ${ms('ps.processed_at')} AS status_pass,
            CASE WHEN d.status <> 'pending' THEN ${ms('d.updated_at')} END AS status_recorded,
            d.status
       FROM r JOIN d USING (request_id)
       LEFT JOIN o oreq ON oreq.type = 'notification.requested' AND oreq.subject = r.request_id
       LEFT JOIN bus.processed_events pd
              ON pd.consumer_group = 'notification-dispatch' AND pd.event_id = oreq.event_id
       LEFT JOIN o owork ON owork.type = 'notification.delivery.requested' AND owork.subject = d.id::text
       LEFT JOIN bus.processed_events pe ON pe.consumer_group = 'delivery-email' AND pe.event_id = owork.event_id
       LEFT JOIN LATERAL (
         SELECT min(at) AS at FROM notifications.attempts
          WHERE delivery_id = d.id AND outcome IN ('sent', 'delivered')
       ) a ON true
       LEFT JOIN o oatt ON oatt.type = 'notification.delivery.attempted' AND oatt.subject = d.id::text
       LEFT JOIN bus.processed_events ps ON ps.consumer_group = 'notification-status' AND ps.event_id = oatt.event_id
      ORDER BY r.request_id, ps.processed_at`,
    [sinceMs],
  );
  return result.rows.map((row) => ({
    requestId: row.request_id,
    accepted: row.accepted,
    dispatchPass: row.dispatch_pass,
    queued: row.queued,
    emailPass: row.email_pass,
    attempted: row.attempted,
    statusPass: row.status_pass,
    statusRecorded: row.status_recorded,
    status: row.status,
  }));
}

export interface GroupPasses {
  group: string;
  passes: number;
  events: number;
  eventsPerPass: { mean: number; max: number };
  /** Time from one pass's start to the next one's, while the group had work: about a pass's length. */
  interval: Percentiles;
  /** Events per second over the window. */
  eventsPerSecond: number;
}

/**
 * Each group's passes between `fromMs` and `toMs`: one pass commits its events with one now(), so the
 * distinct processed_at values are the pass starts, and their counts the batch sizes.
 */
export async function passes(client: pg.Client, fromMs: number, toMs: number): Promise<GroupPasses[]> {
  const result = await client.query<{ consumer_group: string; started: number; events: number }>(
    `SELECT consumer_group, (extract(epoch FROM processed_at) * 1000)::float8 AS started, count(*)::int AS events
       FROM bus.processed_events
      WHERE consumer_group = ANY($3::text[])
        AND processed_at BETWEEN to_timestamp($1::float8 / 1000) AND to_timestamp($2::float8 / 1000)
      GROUP BY 1, 2 ORDER BY 1, 2`,
    [fromMs, toMs, NOTIFICATION_GROUPS],
  );
  return NOTIFICATION_GROUPS.map((group) => {
    const rows = result.rows.filter((row) => row.consumer_group === group);
    const events = rows.reduce((sum, row) => sum + row.events, 0);
    const intervals: number[] = [];
    for (let i = 1; i < rows.length; i++) {
      intervals.push((rows[i]?.started ?? 0) - (rows[i - 1]?.started ?? 0));
    }
    return {
      group,
      passes: rows.length,
      events,
      eventsPerPass: {
        mean: rows.length === 0 ? 0 : events / rows.length,
        max: Math.max(0, ...rows.map((row) => row.events)),
      },
      interval: percentiles(intervals),
      eventsPerSecond: toMs > fromMs ? (events * 1000) / (toMs - fromMs) : 0,
    };
  });
}

/** Rows each table gained since `sinceMs`, and dead letters: what one notification costs in writes. */
export async function writeCounts(client: pg.Client, sinceMs: number): Promise<Record<string, number>> {
  const since = 'to_timestamp($1::float8 / 1000)';
  const result = await client.query<Record<string, number>>(
    `SELECT (SELECT count(*) FROM notifications.requests WHERE created_at >= ${since})::int AS requests,
            (SELECT count(*) FROM bus.outbox WHERE created_at >= ${since})::int AS outbox_events,
            (SELECT count(*) FROM bus.processed_events WHERE processed_at >= ${since})::int AS processed_events,
            (SELECT count(*) FROM notifications.attempts WHERE at >= ${since})::int AS attempts,
            (SELECT count(*) FROM bus.dead_letters)::int AS dead_letters_total`,
    [sinceMs],
  );
  return result.rows[0] ?? {};
}

// ---- counters --------------------------------------------------------------------------------------------

/** pg_stat_database of the current database: what its sessions committed and wrote. */
export interface DatabaseCounters {
  commits: number;
  rollbacks: number;
  inserted: number;
  updated: number;
  deleted: number;
}

/**
 * The counters now. A backend publishes its counts at the end of a transaction at most once a second
 * (an idle one within about 10 s): read after the pipeline has been quiet a while, they are close.
 */
export async function databaseCounters(client: pg.Client): Promise<DatabaseCounters> {
  await client.query('SELECT pg_stat_clear_snapshot()');
  const result = await client.query<DatabaseCounters>(
    `SELECT xact_commit::float8 AS commits, xact_rollback::float8 AS rollbacks, tup_inserted::float8 AS inserted,
            tup_updated::float8 AS updated, tup_deleted::float8 AS deleted
       FROM pg_stat_database WHERE datname = current_database()`,
  );
  const row = result.rows[0];
  if (!row) throw new Error('pg_stat_database has no row for this database');
  return row;
}

export function counterDelta(before: DatabaseCounters, after: DatabaseCounters): DatabaseCounters {
  return {
    commits: after.commits - before.commits,
    rollbacks: after.rollbacks - before.rollbacks,
    inserted: after.inserted - before.inserted,
    updated: after.updated - before.updated,
    deleted: after.deleted - before.deleted,
  };
}

/** Prometheus text: the value of each sample line, keyed by the line's name and labels as written. */
export function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const value = Number(line.slice(space + 1));
    if (Number.isFinite(value)) values.set(line.slice(0, space), value);
  }
  return values;
}

/**
 * Percentiles of a Prometheus histogram between two scrapes: the upper bound of the bucket the rank
 * falls in. `name` is the histogram's name, `match` a label text the series must contain.
 */
export function histogramDelta(
  before: Map<string, number>,
  after: Map<string, number>,
  name: string,
  match: string,
): { count: number; mean: number; p50: number; p99: number } {
  const buckets = new Map<number, number>();
  for (const [key, value] of after) {
    if (!key.startsWith(`${name}_bucket{`) || !key.includes(match)) continue;
    const le = /le="([^"]+)"/.exec(key)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + value - (before.get(key) ?? 0));
  }
  const sumOf = (map: Map<string, number>, suffix: string) =>
    [...map]
      .filter(([key]) => key.startsWith(`${name}_${suffix}{`) && key.includes(match))
      .reduce((a, [, v]) => a + v, 0);
  const count = sumOf(after, 'count') - sumOf(before, 'count');
  const sum = sumOf(after, 'sum') - sumOf(before, 'sum');
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const rank = (p: number) => sorted.find(([, cumulative]) => cumulative >= p * count)?.[0] ?? Number.NaN;
  return { count, mean: count === 0 ? Number.NaN : sum / count, p50: rank(0.5), p99: rank(0.99) };
}

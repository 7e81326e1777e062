/**
 * Entry of the consumer thread (see consumer-thread.ts): runs the consumer groups of the configured
 * services on a pool and bus of its own, answers the request thread's drain, lag, metrics and stop.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { basename } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { linkOutboxCommitsAcrossThreads } from '@switchyard/bus';
import { createThreadCache } from '@switchyard/cache';
import type { ServiceClients } from '@switchyard/contracts';
import { createLogger, createMetrics, createPool, systemClock, uuidV7 } from '@switchyard/kernel';
import type { Config } from './config.ts';
import type { ConsumerMessage, ConsumerRequest, ConsumerThreadData } from './consumer-thread.ts';
import { createHandledCounter } from './overview.ts';
import {
  createBus,
  modulesFor,
  openCache,
  runningServiceNames,
  serviceDepsOf,
  subscribeServices,
} from './server.ts';

/** Counts are sent at most this often: one message per handled event would cost the request thread. */
const HANDLED_FLUSH_MS = 100;
/** The worker's share of connections; the request thread keeps its own pool of 20. */
const CONSUMER_POOL_CONNECTIONS = 16;

/**
 * How much lower than the request thread this thread is scheduled (Linux nice). When both want the CPU,
 * requests go first: a burst is accepted at the request path's speed and delivered from the backlog
 * after it, and a steady load still leaves the consumers the cores requests do not use. Measured in
 * docs/BENCHMARKS.md (stop 17).
 */
const CONSUMER_THREAD_NICE_INCREMENT = 10;
/** The lowest priority Linux has. */
const MAX_NICE = 19;

/** Linux schedules each thread on its own, named by /proc/thread-self; elsewhere nice is per process. */
function lowerThisThreadsPriority(): void {
  if (process.platform !== 'linux') return;
  try {
    const threadId = Number(basename(readlinkSync('/proc/thread-self')));
    setPriority(threadId, Math.min(MAX_NICE, getPriority(threadId) + CONSUMER_THREAD_NICE_INCREMENT));
  } catch (error) {
    // A sandbox without /proc: the thread runs at the request thread's priority, as on other systems.
    log.warn({ err: error }, 'could not lower the consumer thread’s priority');
  }
}

const port = parentPort;
if (!port) throw new Error('consumer-worker.ts runs as a worker thread (see consumer-thread.ts)');
const data = workerData as ConsumerThreadData;
const { config } = data;
const send = (message: ConsumerMessage) => port.postMessage(message);

const log = createLogger({ level: data.logLevel as Config['logLevel'], writeInBackground: true }).child({
  thread: 'consumers',
});
lowerThisThreadsPriority();
const metrics = createMetrics({ processMetrics: false });
const unlinkCommits = linkOutboxCommitsAcrossThreads();
const pool = createPool({
  connectionString: data.databaseUrl,
  maxConnections: CONSUMER_POOL_CONNECTIONS,
  applicationName: 'switchyard-consumers',
});
const cache = data.cachePort
  ? createThreadCache(data.cachePort, { log: log.child({ service: 'cache' }) })
  : await openCache(config, metrics, log.child({ service: 'cache' }));
const bus = await createBus(config.bus, pool, log.child({ service: 'bus' }));
// No first admin and no announcements here: the request thread's auth service does those.
const services = modulesFor(config, Buffer.from(data.secretKey), () => {}, data.fcmServiceAccount);
const clients: ServiceClients = {};
const depsOf = serviceDepsOf(
  { db: pool, clock: systemClock, ids: uuidV7, bus, cache, metrics, clients },
  log,
);
const names = runningServiceNames(config);
for (const name of names) Object.assign(clients, services[name].provides?.(depsOf(name)));

let handled = 0;
let flushTimer: NodeJS.Timeout | undefined;
function flushHandled() {
  flushTimer = undefined;
  if (handled === 0) return;
  send({ type: 'handled', count: handled });
  handled = 0;
}
const counter = createHandledCounter((count) => {
  handled += count;
  flushTimer ??= setTimeout(flushHandled, HANDLED_FLUSH_MS);
});
const subscribed = subscribeServices(services, config.services, depsOf, bus, counter);

async function stop(): Promise<void> {
  await bus.stop();
  for (const name of names) await services[name].close?.();
  clearTimeout(flushTimer);
  flushHandled();
  await cache.close();
  await pool.end();
  unlinkCommits();
  await new Promise<void>((resolve) => log.flush(() => resolve()));
}

async function answer(message: ConsumerRequest): Promise<unknown> {
  switch (message.op) {
    case 'drain':
      return bus.drain(message.group);
    case 'lag':
      return (await bus.lag?.()) ?? [];
    case 'metrics':
      return metrics.registry.getMetricsAsJSON();
    case 'stop':
      return stop();
  }
}

port.on('message', (message: ConsumerRequest) => {
  answer(message).then(
    (value) => send({ type: 'reply', id: message.id, ok: true, value: value ?? null }),
    (error: unknown) =>
      send({
        type: 'reply',
        id: message.id,
        ok: false,
        message: error instanceof Error ? error.message : String(error),
      }),
  );
});

await bus.start();
send({ type: 'ready', subscribed });

/**
 * The request thread's side of the consumer thread: a Bus whose subscriptions run in a worker thread of
 * this process, with a pool, a bus and service clients of its own. Requests and deliveries then each have
 * an event loop rather than taking turns on one, which is what capped accepted notifications while
 * delivery caught up. On by default where the process may use two cores (SWITCHYARD_CONSUMER_THREAD=auto);
 * the worker runs at a lower priority than requests (consumer-worker.ts; docs/BENCHMARKS.md, stop 17).
 *
 * The worker shares with this thread what one process must share: the cache (served over a port when
 * it lives in memory, so keys, locks and live fan-out stay one store), outbox commit wake-ups (linked
 * across threads), metrics (merged into this thread's `/metrics`) and the overview's throughput.
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { type Bus, type GroupLag, linkOutboxCommitsAcrossThreads } from '@switchyard/bus';
import { type Cache, serveCache } from '@switchyard/cache';
import type { FcmServiceAccount } from '@switchyard/delivery';
import type { Logger, MetricsSnapshot } from '@switchyard/kernel';
import type { Config } from './config.ts';

/** What the worker is started with; it crosses the thread boundary, so it is data only. */
export interface ConsumerThreadData {
  config: Config;
  /** The request thread logger's level (a test's may be quieter than the configuration's). */
  logLevel: string;
  secretKey: Uint8Array;
  fcmServiceAccount: FcmServiceAccount | undefined;
  databaseUrl: string;
  /** The request thread's in-memory cache, served over this port; absent with Redis (the worker opens its own). */
  cachePort: MessagePort | undefined;
}

export type ConsumerRequest =
  | { type: 'request'; id: number; op: 'drain'; group: string }
  | { type: 'request'; id: number; op: 'lag' | 'metrics' | 'stop' };

export type ConsumerMessage =
  | { type: 'ready'; subscribed: { name: string; groups: string[] }[] }
  | { type: 'handled'; count: number }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; message: string };

/** Long enough for in-flight deliveries to finish their sends; then the worker is terminated. */
const STOP_TIMEOUT_MS = 30_000;

export interface ConsumerThreadOptions {
  data: Omit<ConsumerThreadData, 'cachePort'>;
  /** The cache to serve to the worker; undefined when the worker opens its own (Redis). */
  sharedCache: Cache | undefined;
  log: Logger;
  /** Events the worker's handlers have dealt with, as they are counted. */
  onHandled(count: number): void;
  /** The worker stopped without being asked to (an uncaught error): nothing consumes any more. */
  onFailure(error: Error): void;
}

export interface ConsumerThreadBus extends Bus {
  /** The groups the worker runs, by service; known once `start` has resolved. */
  readonly subscribed: { name: string; groups: string[] }[];
  /** The worker's metrics, for the request thread's `/metrics`. */
  metrics(): Promise<MetricsSnapshot>;
}

/**
 * A Bus for the request thread whose `start` starts the worker (and resolves once its subscriptions are
 * running), whose `drain` and `lag` ask the worker, and whose `stop` stops it. Subscribing here is an
 * error: the worker subscribes the services' groups itself.
 */
export function createConsumerThreadBus(options: ConsumerThreadOptions): ConsumerThreadBus {
  const { log } = options;
  let worker: Worker | undefined;
  let stopServingCache = () => {};
  let unlinkCommits = () => {};
  let nextId = 1;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  const subscribed: { name: string; groups: string[] }[] = [];
  let stopping = false;
  let exited: Promise<void> = Promise.resolve();

  function request(message: ConsumerRequest): Promise<unknown> {
    const running = worker;
    if (!running) return Promise.reject(new Error('the consumer thread is not running'));
    return new Promise((resolve, reject) => {
      pending.set(message.id, { resolve, reject });
      running.postMessage(message);
    });
  }

  function failPending(error: Error) {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  }

  return {
    kind: options.data.config.bus.kind,
    subscribed,
    subscribe() {
      throw new Error('subscriptions run in the consumer thread, which subscribes the services itself');
    },
    async start() {
      if (worker) throw new Error('the consumer thread is already running');
      // This thread's commits (the requests') must wake the worker's consumers, not wait for their poll.
      unlinkCommits = linkOutboxCommitsAcrossThreads();
      let cachePort: MessagePort | undefined;
      if (options.sharedCache) {
        const channel = new MessageChannel();
        stopServingCache = serveCache(options.sharedCache, channel.port1);
        cachePort = channel.port2;
      }
      const data: ConsumerThreadData = { ...options.data, cachePort };
      const started = new Worker(new URL('./consumer-worker.ts', import.meta.url), {
        workerData: data,
        transferList: cachePort ? [cachePort] : [],
        name: 'switchyard-consumers',
      });
      worker = started;
      exited = new Promise((resolve) => started.once('exit', () => resolve()));
      await new Promise<void>((resolve, reject) => {
        let ready = false;
        started.on('message', (message: ConsumerMessage) => {
          if (message.type === 'ready') {
            ready = true;
            subscribed.push(...message.subscribed);
            resolve();
          } else if (message.type === 'handled') {
            options.onHandled(message.count);
          } else {
            const waiting = pending.get(message.id);
            pending.delete(message.id);
            if (message.ok) waiting?.resolve(message.value);
            else waiting?.reject(new Error(message.message));
          }
        });
        let reported = false;
        const failed = (error: Error) => {
          failPending(error);
          if (!ready) reject(error);
          else if (!stopping && !reported) options.onFailure(error);
          reported = true;
        };
        // An uncaught error in the worker comes as 'error', then 'exit'; the first one tells why.
        started.on('error', failed);
        started.on('exit', (code) => {
          worker = undefined;
          stopServingCache();
          unlinkCommits();
          failed(new Error(`the consumer thread exited (code ${code}) without being asked to`));
        });
      });
      log.info({ groups: subscribed.flatMap((service) => service.groups).length }, 'consumer thread started');
    },
    async stop() {
      const running = worker;
      if (!running || stopping) return exited;
      stopping = true;
      const timer = setTimeout(() => {
        log.warn({ timeoutMs: STOP_TIMEOUT_MS }, 'consumer thread did not stop in time: terminating it');
        void running.terminate();
      }, STOP_TIMEOUT_MS);
      try {
        await request({ type: 'request', id: nextId++, op: 'stop' }).catch((error: unknown) => {
          log.error({ err: error }, 'consumer thread failed to stop cleanly');
        });
        // Its consumers, pool and logs are closed by now; ending the thread does not wait on its timers.
        await running.terminate();
        await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    async drain(group) {
      await request({ type: 'request', id: nextId++, op: 'drain', group });
    },
    async lag() {
      return (await request({ type: 'request', id: nextId++, op: 'lag' })) as GroupLag[];
    },
    async metrics() {
      // A stopped worker counts nothing more; the scrape still answers with this thread's figures.
      if (!worker) return [];
      return (await request({ type: 'request', id: nextId++, op: 'metrics' })) as MetricsSnapshot;
    },
  };
}

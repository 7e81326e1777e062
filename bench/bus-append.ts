// The appending side of bench/bus.ts: the events it writes to the outbox, `appendAll`, and the writer
// thread (bench/bus-writer.ts) that runs `appendAll` beside the bus's thread, as the server's request
// thread appends while its consumer thread relays and consumes.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { appendToOutbox, type CloudEvent, createEvent } from '@switchyard/bus';
import { type Pool, systemClock, uuidV7, withTransaction } from '@switchyard/kernel';

export const TOPIC = 'bench-events';
export const SOURCE = '/switchyard/bench';
export const DATA_BYTES = 1024;

export interface BenchData {
  seq: number;
  /** Milliseconds since the epoch (fractional) when the event's batch was appended. */
  sentAt: number;
  pad: string;
}

/**
 * Wall-clock milliseconds with sub-millisecond resolution. `performance.timeOrigin` is the process's, so
 * both ends of a latency compare even when the event was appended in the writer thread.
 */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A pad of base64 text (hardly compressible, like real payloads) that makes each event's data 1 KB of JSON. */
function makePad(seed: number): string {
  const sample: BenchData = { seq: 1_000_000, sentAt: nowMs(), pad: '' };
  const length = Math.max(0, DATA_BYTES - Buffer.byteLength(JSON.stringify(sample)));
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let state = seed * 2_654_435_761 + 1;
  let pad = '';
  for (let i = 0; i < length; i++) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    pad += alphabet[state % 64];
  }
  return pad;
}

/** 256 different pads, so neither the broker's compression nor TOAST sees one repeated value. */
export const PADS = Array.from({ length: 256 }, (_, index) => makePad(index + 1));

/** What `appendAll` needs of the bench's options; it crosses the thread boundary, so it is data only. */
export interface AppendOptions {
  events: number;
  /** Events per append transaction. */
  batch: number;
  /** Append transactions under way at once (as a server's concurrent requests would write). */
  writers: number;
  keys: number;
  /** At most this many events/s; undefined: as fast as appends go. */
  rate: number | undefined;
}

/** When the append phase began (before the first batch) and ended (after the last commit), by `nowMs`. */
export interface AppendWindow {
  startedAt: number;
  endedAt: number;
}

/**
 * Appends `options.events` events in transactions of `options.batch`, `options.writers` transactions at
 * a time (at most `options.rate` events/s when given). Each event's `sentAt` is taken just before its
 * batch is appended.
 */
export async function appendAll(
  pool: Pool,
  options: AppendOptions,
  signal: AbortSignal,
): Promise<AppendWindow> {
  const deps = { clock: systemClock, ids: uuidV7, source: SOURCE };
  const startedAt = nowMs();
  let next = 0;
  async function writer(): Promise<void> {
    for (;;) {
      const first = next;
      if (first >= options.events) return;
      next += options.batch;
      if (signal.aborted) throw new Error('interrupted');
      if (options.rate !== undefined) {
        const due = startedAt + (first / options.rate) * 1000;
        const wait = due - nowMs();
        if (wait > 0) await sleep(wait);
      }
      const sentAt = nowMs();
      const events: CloudEvent[] = [];
      for (let seq = first; seq < Math.min(options.events, first + options.batch); seq++) {
        const key = `key-${seq % options.keys}`;
        const data: BenchData = { seq, sentAt, pad: PADS[seq % PADS.length] ?? '' };
        events.push(createEvent({ type: 'bench.event', subject: key, data, partitionKey: key }, {}, deps));
      }
      await withTransaction(pool, (tx) => appendToOutbox(tx, TOPIC, events));
    }
  }
  await Promise.all(Array.from({ length: options.writers }, writer));
  return { startedAt, endedAt: nowMs() };
}

// ---- the writer thread -------------------------------------------------------------------------------------

/** What the writer thread is started with. */
export interface WriterData {
  databaseUrl: string;
  poolSize: number;
  options: AppendOptions;
}

/** Bus thread -> writer thread: append now; then, once the path's figures are taken, stop. */
export type WriterRequest = { type: 'append' } | { type: 'stop' };

/** Writer thread -> bus thread. */
export type WriterMessage =
  | { type: 'ready' }
  | ({ type: 'appended' } & AppendWindow)
  | { type: 'failed'; message: string };

/** How long `stop` waits for the writer thread to end its pool and exit before it is terminated. */
const STOP_TIMEOUT_MS = 10_000;

export interface WriterThread {
  /** Runs `appendAll` in the writer thread; resolves with its window, rejects with its error. */
  append(): Promise<AppendWindow>;
  /** Ends the writer's pool and the thread (terminated if it takes too long, or on Ctrl-C). */
  stop(): Promise<void>;
}

/**
 * Starts bench/bus-writer.ts in a worker thread with a pool of its own on `databaseUrl`, and resolves once
 * that pool is connected. An error in the thread (an append failing, an uncaught error, the thread
 * exiting) rejects what is waited for with its message; `signal` (Ctrl-C) terminates the thread.
 */
export async function startWriterThread(data: WriterData, signal: AbortSignal): Promise<WriterThread> {
  const worker = new Worker(new URL('./bus-writer.ts', import.meta.url), {
    workerData: data,
    name: 'bench-writer',
  });
  let waiting:
    | { type: WriterMessage['type']; resolve(message: WriterMessage): void; reject(error: Error): void }
    | undefined;
  let failure: Error | undefined;
  let exited = false;
  const exit = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  const fail = (error: Error) => {
    failure ??= error;
    const current = waiting;
    waiting = undefined;
    current?.reject(failure);
  };
  worker.on('message', (message: WriterMessage) => {
    if (message.type === 'failed') {
      fail(new Error(`writer thread: ${message.message}`));
    } else if (waiting?.type === message.type) {
      const current = waiting;
      waiting = undefined;
      current.resolve(message);
    }
  });
  // An uncaught error in the thread comes as 'error', then 'exit'; the first one tells why.
  worker.on('error', (error) => fail(new Error(`writer thread: ${error.message}`)));
  worker.once('exit', (code) => {
    exited = true;
    fail(new Error(`the writer thread exited (code ${code}) before it was done`));
  });
  const onAbort = () => {
    fail(new Error('interrupted'));
    void worker.terminate();
  };
  signal.addEventListener('abort', onAbort, { once: true });

  function expect(type: WriterMessage['type']): Promise<WriterMessage> {
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      waiting = { type, resolve, reject };
    });
  }

  if (signal.aborted) onAbort();
  try {
    await expect('ready');
  } catch (error) {
    signal.removeEventListener('abort', onAbort);
    await worker.terminate();
    throw error;
  }
  return {
    async append() {
      const appended = expect('appended');
      worker.postMessage({ type: 'append' } satisfies WriterRequest);
      const message = await appended;
      if (message.type !== 'appended') throw new Error(`writer thread: unexpected ${message.type}`);
      return { startedAt: message.startedAt, endedAt: message.endedAt };
    },
    async stop() {
      signal.removeEventListener('abort', onAbort);
      if (exited) return;
      // From here on, its exit is what was asked for.
      failure ??= new Error('the writer thread was stopped');
      worker.postMessage({ type: 'stop' } satisfies WriterRequest);
      const timer = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS);
      await exit;
      clearTimeout(timer);
    },
  };
}

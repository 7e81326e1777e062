// Entry of bench/bus.ts's writer thread (see `startWriterThread` in bus-append.ts): appends the bench's
// events to the outbox on a pool of its own, as the server's request thread does while its consumer
// thread runs the bus. Commits are linked across threads, so they wake the bus's readers at once.
import { parentPort, workerData } from 'node:worker_threads';
import { linkOutboxCommitsAcrossThreads } from '@switchyard/bus';
import { createPool } from '@switchyard/kernel';
import { appendAll, type WriterData, type WriterMessage, type WriterRequest } from './bus-append.ts';

if (!parentPort) throw new Error('bus-writer.ts runs as a worker thread (see bus-append.ts)');
const port = parentPort;
const data = workerData as WriterData;
const send = (message: WriterMessage) => port.postMessage(message);

const unlinkCommits = linkOutboxCommitsAcrossThreads();
const pool = createPool({
  connectionString: data.databaseUrl,
  maxConnections: data.poolSize,
  applicationName: 'switchyard-bench-writer',
});
/** Never aborted from here: Ctrl-C in the bus thread terminates this thread. */
const signal = new AbortController().signal;

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  port.off('message', onMessage);
  await pool.end().catch(() => {});
  unlinkCommits();
}

function onMessage(message: WriterRequest): void {
  if (message.type === 'stop') {
    void stop();
    return;
  }
  appendAll(pool, data.options, signal).then(
    (window) => send({ type: 'appended', ...window }),
    (error: unknown) => {
      send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
      void stop();
    },
  );
}
port.on('message', onMessage);

try {
  // Open the connections the writers will use before the clock starts, as the bus thread's pool has.
  await Promise.all(
    Array.from({ length: Math.min(data.options.writers, data.poolSize) }, () => pool.query('SELECT 1')),
  );
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  await stop();
}

import type { Logger, Pool, PoolClient } from '@switchyard/kernel';
import { OUTBOX_CHANNEL } from './outbox.ts';

export interface OutboxListener {
  stop(): Promise<void>;
}

/**
 * Holds one connection LISTENing for outbox commits and calls `onCommit(topic)` for each; `onCommit()`
 * without a topic after (re)connecting, since commits may have been missed meanwhile. A lost connection
 * is replaced after `retryDelayMs`; callers poll as a backstop anyway.
 */
export function listenForOutboxCommits(
  pool: Pool,
  log: Logger,
  onCommit: (topic?: string) => void,
  retryDelayMs: number,
): OutboxListener {
  let stopped = false;
  let current: PoolClient | undefined;
  let retry: NodeJS.Timeout | undefined;

  function scheduleRetry() {
    if (!stopped) retry = setTimeout(() => void connect(), retryDelayMs);
  }

  async function connect(): Promise<void> {
    let client: PoolClient | undefined;
    try {
      client = await pool.connect();
      const connection = client;
      connection.on('notification', (message) => onCommit(message.payload));
      connection.on('error', (error) => {
        // Only the live listener is ours to replace; after stop() the connection is already gone.
        if (current !== connection) return;
        log.warn({ err: error }, 'outbox listener lost its connection; polling until it is back');
        current = undefined;
        connection.release(true);
        scheduleRetry();
      });
      await connection.query(`LISTEN ${OUTBOX_CHANNEL}`);
      if (stopped) {
        connection.release(true);
        return;
      }
      current = connection;
      onCommit();
    } catch (error) {
      client?.release(true);
      log.warn({ err: error }, 'outbox listener could not connect; polling until it can');
      scheduleRetry();
    }
  }

  const started = connect();
  return {
    async stop() {
      stopped = true;
      clearTimeout(retry);
      await started;
      const connection = current;
      current = undefined;
      if (connection) {
        connection.removeAllListeners('notification');
        // A connection that has LISTENed is not fit to go back to the pool; close it instead.
        connection.release(true);
      }
    },
  };
}

/**
 * A wait that ends after `ms` or as soon as `wake()` is called; a wake that comes while nobody waits is
 * remembered, so a commit that lands during a pass is not slept through.
 */
export function createWaker(): { wait(ms: number): Promise<void>; wake(): void } {
  let pending = false;
  let resolveWait: (() => void) | undefined;
  return {
    wait(ms) {
      if (pending) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          resolveWait = undefined;
          resolve();
        }
        resolveWait = done;
      });
    },
    wake() {
      if (resolveWait) resolveWait();
      else pending = true;
    },
  };
}

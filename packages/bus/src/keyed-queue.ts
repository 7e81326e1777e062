/**
 * Runs tasks with at most `concurrency` at once while tasks that share a key run one after another in
 * the order they were scheduled. Adapters use it to keep per-key order with more than one message in
 * flight.
 */
export interface KeyedQueue {
  /** Resolves when the task has run (with its result) — not when it was queued. */
  schedule<T>(key: string, task: () => Promise<T>): Promise<T>;
  /** Resolves when every task scheduled so far has finished. */
  idle(): Promise<void>;
  /** Tasks scheduled and not yet finished. */
  readonly size: number;
}

export function createKeyedQueue(concurrency: number): KeyedQueue {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error('concurrency must be a positive integer');
  const tails = new Map<string, Promise<unknown>>();
  const waiting: (() => void)[] = [];
  let running = 0;
  let pending = 0;
  let idleWaiters: (() => void)[] = [];

  async function slot(): Promise<void> {
    if (running < concurrency) {
      running += 1;
      return;
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  }

  function release() {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }

  return {
    get size() {
      return pending;
    },
    schedule<T>(key: string, task: () => Promise<T>): Promise<T> {
      pending += 1;
      const previous = tails.get(key) ?? Promise.resolve();
      const result = previous.then(async () => {
        await slot();
        try {
          return await task();
        } finally {
          release();
        }
      });
      const tail = result.then(
        () => {},
        () => {},
      );
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
        pending -= 1;
        if (pending === 0) {
          const waiters = idleWaiters;
          idleWaiters = [];
          for (const resolve of waiters) resolve();
        }
      });
      return result;
    },
    idle() {
      if (pending === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}

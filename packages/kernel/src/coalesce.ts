/**
 * Writes that arrive while one is in flight go out together as the next one, so under load many callers
 * share a statement (and a commit) while a lone caller still goes at once, with no timer to wait for.
 * Each caller's promise settles with the write that carried its item.
 */
export interface Coalescer<T, R> {
  add(item: T): Promise<R>;
}

interface Queued<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * `write` takes the items of one round and returns one result per item, in order. `maxItems` caps a
 * round; the rest wait for the next.
 */
export function createCoalescer<T, R>(
  write: (items: T[]) => Promise<R[]>,
  options: { maxItems: number },
): Coalescer<T, R> {
  let queue: Queued<T, R>[] = [];
  let draining = false;

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const round = queue.slice(0, options.maxItems);
      queue = queue.slice(round.length);
      try {
        const results = await write(round.map((queued) => queued.item));
        for (const [index, queued] of round.entries()) queued.resolve(results[index] as R);
      } catch (error) {
        for (const queued of round) queued.reject(error);
      }
    }
    draining = false;
  }

  return {
    add(item) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (!draining) {
          draining = true;
          void drain();
        }
      });
    },
  };
}

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MessageChannel, Worker } from 'node:worker_threads';
import { type Cache, createMemoryCache, createThreadCache, serveCache } from '@switchyard/cache';
import { cacheContract } from '@switchyard/cache/contract';
import { createLogger } from '@switchyard/kernel';
import { silentLogger } from '@switchyard/testing';
import type { ThreadCacheWorkerData, WorkerCommand, WorkerReport } from './fixtures/thread-cache-worker.ts';

const WAIT_MS = 5_000;

/** Re-checks `condition` until it holds; for effects in the other thread, which have no event here. */
async function until(condition: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A memory cache that counts its live subscriptions, to see the owner end a remote's. */
function countingOwner(base: Cache = createMemoryCache()) {
  const counts = { activeSubscriptions: 0 };
  const cache: Cache = {
    ...base,
    async subscribe(channel, listener) {
      const unsubscribe = await base.subscribe(channel, listener);
      counts.activeSubscriptions += 1;
      let ended = false;
      return async () => {
        if (!ended) counts.activeSubscriptions -= 1;
        ended = true;
        await unsubscribe();
      };
    },
  };
  return { cache, counts };
}

/** A thread cache and the memory cache it reaches, at the two ends of one channel in this thread. */
function connected(
  owner: Cache = createMemoryCache(),
  options: Parameters<typeof createThreadCache>[1] = {},
) {
  const { port1, port2 } = new MessageChannel();
  const stopServing = serveCache(owner, port1);
  const cache = createThreadCache(port2, options);
  return {
    owner,
    cache,
    stopServing,
    async close() {
      await cache.close();
      stopServing();
      await owner.close();
    },
  };
}

cacheContract(
  'thread',
  async () => {
    const { cache, owner, close } = connected(createMemoryCache(), { log: silentLogger() });
    return { cache, second: owner, close };
  },
  { sharedStore: true },
);

describe('thread cache', () => {
  it('rejects with the message of an error thrown by the owner’s cache', async () => {
    const memory = createMemoryCache();
    const { cache, close } = connected({
      ...memory,
      async get() {
        throw new Error('store is down');
      },
    });
    try {
      await assert.rejects(cache.get('k'), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.equal(error.message, 'store is down');
        return true;
      });
      // One failure leaves the channel working.
      await cache.set('k', 1, 60);
      assert.equal(await memory.get('k'), 1);
    } finally {
      await close();
    }
  });

  it('sends calls made together as one message, and their answers as one message back', async () => {
    const owner = createMemoryCache();
    const { port1, port2 } = new MessageChannel();
    const stopServing = serveCache(owner, port1);
    const cache = createThreadCache(port2);
    const requestMessages: unknown[] = [];
    const replyMessages: unknown[] = [];
    port1.on('message', (message) => requestMessages.push(message));
    port2.on('message', (message) => replyMessages.push(message));
    try {
      await owner.set('k:7', 'seven', 60);
      const keys = Array.from({ length: 100 }, (_, n) => `k:${n}`);
      const values = await Promise.all(keys.map((key) => cache.get(key)));
      assert.equal(values[7], 'seven');
      assert.equal(values.filter((value) => value === undefined).length, 99);
      assert.equal(requestMessages.length, 1);
      assert.equal(replyMessages.length, 1);
      // Calls made in later turns go in messages of their own: the delete's, then the get's.
      await cache.delete(...keys);
      assert.equal(await cache.get('k:7'), undefined);
      assert.equal(requestMessages.length, 3);
    } finally {
      await cache.close();
      stopServing();
      await owner.close();
    }
  });

  it('rejects values that are not JSON in the caller, as memory does, without asking the owner', async () => {
    const { cache, close } = connected();
    try {
      await assert.rejects(
        cache.set('k', () => {}, 60),
        /cache values must be JSON; got function/,
      );
      await assert.rejects(cache.setIfAbsent('k', undefined, 60), TypeError);
    } finally {
      await close();
    }
  });

  it('rejects calls waiting for an answer when closed, and every call after, as memory does', async () => {
    const { cache, owner, close } = connected();
    try {
      const waiting = [cache.get('k'), cache.set('k', 1, 60), cache.increment('n', 60)];
      await cache.close();
      for (const call of waiting) await assert.rejects(call, /cache was closed before the owner answered/);
      await assert.rejects(cache.get('k'), /^Error: cache is closed$/);
      await assert.rejects(cache.set('k', 1, 60), /cache is closed/);
      await assert.rejects(
        cache.subscribe('c', () => {}),
        /cache is closed/,
      );
      assert.equal(await cache.ping(), false);
      await cache.close();
      // The owner's cache is its own to close.
      assert.equal(await owner.ping(), true);
      await owner.set('k', 'still served locally', 60);
    } finally {
      await close();
    }
  });

  it('logs a failing subscriber without starving the others', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'error', destination: { write: (line: string) => lines.push(line) } });
    const { cache, owner, close } = connected(createMemoryCache(), { log });
    try {
      const { promise, resolve } = Promise.withResolvers<string>();
      await cache.subscribe('c', () => {
        throw new Error('subscriber bug');
      });
      await cache.subscribe('c', resolve);
      await owner.publish('c', 'm');
      assert.equal(await promise, 'm');
      assert.match(lines.join(''), /subscriber bug/);
    } finally {
      await close();
    }
  });

  it('when the owner stops serving: ends the remote’s subscriptions and fails its calls, cache left open', async () => {
    const { cache: owner, counts } = countingOwner();
    const { cache, stopServing, close } = connected(owner);
    try {
      const heard: string[] = [];
      await cache.subscribe('c', (message) => heard.push(message));
      await cache.subscribe('d', (message) => heard.push(message));
      assert.equal(counts.activeSubscriptions, 2);
      const waiting = cache.get('k');
      stopServing();
      assert.equal(counts.activeSubscriptions, 0);
      await assert.rejects(waiting, /cache owner closed the port before answering/);
      await assert.rejects(cache.get('k'), /cache is closed/);
      assert.equal(await cache.ping(), false);
      await owner.publish('c', 'unheard');
      await owner.set('k', 'v', 60);
      assert.equal(await owner.get('k'), 'v');
      assert.deepEqual(heard, []);
    } finally {
      await close();
    }
  });

  it('reports not ready when the owner does not answer within 2 s', async () => {
    // Nobody serves port1: requests queue there unanswered.
    const { port1, port2 } = new MessageChannel();
    const cache = createThreadCache(port2);
    try {
      const startedAtMs = Date.now();
      assert.equal(await cache.ping(), false);
      const elapsedMs = Date.now() - startedAtMs;
      assert.ok(elapsedMs >= 1_900 && elapsedMs < 3_000, `took ${elapsedMs} ms`);
    } finally {
      await cache.close();
      port1.close();
    }
  });

  it('lets a process using it exit without closing anything', async () => {
    const script = fileURLToPath(new URL('./fixtures/thread-cache-exit.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 10_000 });
    assert.deepEqual(JSON.parse(stdout), { value: { n: 1 }, heard: 'hello', ready: true });
  });
});

describe('thread cache in a worker thread', () => {
  let worker: Worker;
  let owner: Cache;
  let counts: { activeSubscriptions: number };
  let stopServing: () => void;
  let exited: Promise<unknown[]>;
  const reports: WorkerReport[] = [];
  /** Called on every report, until the awaited one has come. */
  const waiters = new Set<() => void>();

  /** The first report of `kind` matching `matches`, including one that came before the call. */
  async function report<K extends WorkerReport['report']>(
    kind: K,
    matches: (report: Extract<WorkerReport, { report: K }>) => boolean = () => true,
  ): Promise<Extract<WorkerReport, { report: K }>> {
    const isKind = (r: WorkerReport): r is Extract<WorkerReport, { report: K }> => r.report === kind;
    const find = () => reports.filter(isKind).find(matches);
    const { promise, resolve, reject } = Promise.withResolvers<Extract<WorkerReport, { report: K }>>();
    const check = () => {
      const found = find();
      if (found) resolve(found);
    };
    check();
    waiters.add(check);
    const timer = setTimeout(() => reject(new Error(`timed out waiting for the worker's ${kind}`)), WAIT_MS);
    try {
      return await promise;
    } finally {
      clearTimeout(timer);
      waiters.delete(check);
    }
  }

  const command = (sent: WorkerCommand) => worker.postMessage(sent);

  before(async () => {
    ({ cache: owner, counts } = countingOwner());
    const { port1, port2 } = new MessageChannel();
    stopServing = serveCache(owner, port1);
    const workerData: ThreadCacheWorkerData = { port: port2 };
    worker = new Worker(new URL('./fixtures/thread-cache-worker.ts', import.meta.url), {
      workerData,
      transferList: [port2],
    });
    exited = once(worker, 'exit');
    worker.on('message', (received: WorkerReport) => {
      reports.push(received);
      for (const check of waiters) check();
    });
    worker.on('error', (error) => reports.push({ report: 'failed', message: error.message }));
    await report('ready');
  });

  after(async () => {
    stopServing();
    await owner.close();
    await worker.terminate();
  });

  it('stores exactly once when both threads race setIfAbsent on the same key', async () => {
    const keys = Array.from({ length: 100 }, (_, n) => `race:${n}`);
    const attemptsPerKey = 5;
    command({ command: 'race', keys, attemptsPerKey });
    const storedByOwner: Record<string, number> = {};
    for (const key of keys) {
      const stored = await Promise.all(
        Array.from({ length: attemptsPerKey }, (_, attempt) =>
          owner.setIfAbsent(key, { writer: 'owner', attempt }, 60),
        ),
      );
      storedByOwner[key] = stored.filter(Boolean).length;
      // A turn of the event loop per key lets the worker's requests in between this thread's attempts;
      // a timer rather than setImmediate gives a worker slow to be scheduled time to reach the first keys.
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const { storedByKey: storedByWorker } = await report('raced');
    const wonByOwner = keys.filter((key) => storedByOwner[key] === 1).length;
    // Each went its own way through the keys, so each got to some first: a real contest where they met.
    assert.ok(wonByOwner > 0 && wonByOwner < keys.length, `the owner stored ${wonByOwner} of ${keys.length}`);
    for (const key of keys) {
      const [byOwner, byWorker] = [storedByOwner[key] ?? 0, storedByWorker[key] ?? 0];
      assert.equal(byOwner + byWorker, 1, `${key}: owner stored ${byOwner}, worker ${byWorker}`);
      const stored = await owner.get<{ writer: string }>(key);
      assert.equal(stored?.writer, byOwner === 1 ? 'owner' : 'worker', key);
    }
  });

  it('delivers a message published in the worker to a subscriber in the owner thread, and back', async () => {
    command({ command: 'subscribe', channel: 'to-worker' });
    await report('subscribed', (r) => r.channel === 'to-worker');
    await owner.publish('to-worker', 'hello worker');
    const received = await report('received', (r) => r.channel === 'to-worker');
    assert.equal(received.message, 'hello worker');

    const heard = Promise.withResolvers<string>();
    await owner.subscribe('to-owner', heard.resolve);
    command({ command: 'publish', channel: 'to-owner', message: 'hello owner' });
    await report('published');
    assert.equal(await heard.promise, 'hello owner');
  });

  it('rejects the worker’s pending calls when it closes, and the owner keeps working', async () => {
    // The worker's subscription to 'to-worker' and the owner's own to 'to-owner'.
    assert.equal(counts.activeSubscriptions, 2);
    command({ command: 'close-with-pending', key: 'closing' });
    const closed = await report('closed');
    assert.deepEqual(closed, {
      report: 'closed',
      pendingOutcomes: Array.from({ length: 4 }, () => 'cache was closed before the owner answered'),
      afterClose: 'cache is closed',
      readyAfterClose: false,
    });
    // The owner ends what the worker had subscribed, including the subscribe it was sent while closing.
    await until(() => counts.activeSubscriptions === 1, "the worker's subscriptions to end on the owner");
    const [exitCode] = await exited;
    assert.equal(exitCode, 0, 'the worker ended by itself once closed');
    assert.deepEqual(
      reports.filter((r) => r.report === 'failed'),
      [],
    );

    assert.equal(await owner.setIfAbsent('after-close', 'owner', 60), true);
    assert.equal(await owner.get('after-close'), 'owner');
    assert.deepEqual(await owner.increment('after-close:count', 60), { count: 1, resetInMs: 60_000 });
    const heard = Promise.withResolvers<string>();
    await owner.subscribe('to-worker', heard.resolve);
    await owner.publish('to-worker', 'still delivered here');
    assert.equal(await heard.promise, 'still delivered here');
  });
});

/**
 * The Cache port across threads of one process: the thread that owns a cache serves it on a MessagePort
 * (`serveCache`), and a worker holding the other end uses it as a Cache of its own (`createThreadCache`).
 * Both see one store: the same keys, setIfAbsent and increment as atomic across threads as the owner's
 * cache makes them (every call runs there), messages published on either side heard on both.
 *
 * Protocol: the remote sends `ThreadCacheRequest`s, each with an id; the owner answers each id once with
 * a `result` or a `failure` (the error's message), and forwards messages of remote subscriptions as
 * `message`s keyed by the id of the subscribe request. Closing either end of the channel ends the other.
 * Each side posts what it has to send as one array per turn of its event loop: every post wakes the other
 * thread, and a consumer batch asks for many keys at once.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Logger } from '@switchyard/kernel';
import type { Cache } from './port.ts';
import { decode, encode, toMs } from './values.ts';

export type ThreadCacheRequest =
  | { kind: 'get'; id: number; key: string }
  | { kind: 'set'; id: number; key: string; json: string; ttlSeconds: number }
  | { kind: 'setIfAbsent'; id: number; key: string; json: string; ttlSeconds: number }
  | { kind: 'delete'; id: number; keys: string[] }
  | { kind: 'increment'; id: number; key: string; windowSeconds: number }
  | { kind: 'publish'; id: number; channel: string; message: string }
  /** The request's id names the subscription in `message` replies and in `unsubscribe`. */
  | { kind: 'subscribe'; id: number; channel: string }
  | { kind: 'unsubscribe'; id: number; subscriptionId: number }
  | { kind: 'ping'; id: number };

export type ThreadCacheReply =
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'failure'; id: number; message: string }
  | { kind: 'message'; subscriptionId: number; message: string };

/** What the owner answers each request kind with. */
interface ThreadCacheResults {
  get: unknown;
  set: undefined;
  setIfAbsent: boolean;
  delete: undefined;
  increment: { count: number; resetInMs: number };
  publish: undefined;
  subscribe: undefined;
  unsubscribe: undefined;
  ping: boolean;
}

/** The owner does not answer within this, so it counts as not ready (a stuck or busy owner thread). */
const PING_TIMEOUT_MS = 2_000;

/** Collects what is sent within one turn of the event loop and posts it as one array, in order. */
function batchedSender<T>(port: MessagePort): (message: T) => void {
  let waiting: T[] = [];
  const flush = () => {
    const batch = waiting;
    waiting = [];
    // Posting on a closed port is a no-op: messages to a side that has gone are dropped.
    port.postMessage(batch);
  };
  return (message) => {
    waiting.push(message);
    if (waiting.length === 1) queueMicrotask(flush);
  };
}

/**
 * Answers requests arriving on `port` with `cache`, until the returned function is called or the other end
 * closes. Stopping ends the remote's subscriptions and closes the port, so the remote's pending and later
 * calls reject instead of waiting for an answer that cannot come; `cache` stays open (its owner closes it).
 */
export function serveCache(cache: Cache, port: MessagePort): () => void {
  const forwarded = new Map<number, () => Promise<void>>();
  let stopped = false;
  const post = batchedSender<ThreadCacheReply>(port);

  async function run(request: ThreadCacheRequest): Promise<unknown> {
    switch (request.kind) {
      case 'get':
        return cache.get(request.key);
      case 'set':
        return cache.set(request.key, decode(request.json), request.ttlSeconds);
      case 'setIfAbsent':
        return cache.setIfAbsent(request.key, decode(request.json), request.ttlSeconds);
      case 'delete':
        return cache.delete(...request.keys);
      case 'increment':
        return cache.increment(request.key, request.windowSeconds);
      case 'publish':
        return cache.publish(request.channel, request.message);
      case 'subscribe': {
        const subscriptionId = request.id;
        const unsubscribe = await cache.subscribe(request.channel, (message) =>
          post({ kind: 'message', subscriptionId, message }),
        );
        // Stopped while subscribing: nobody is left to end this subscription later.
        if (stopped) {
          await unsubscribe();
          throw new Error('cache is no longer served on this port');
        }
        forwarded.set(subscriptionId, unsubscribe);
        return undefined;
      }
      case 'unsubscribe': {
        const unsubscribe = forwarded.get(request.subscriptionId);
        forwarded.delete(request.subscriptionId);
        return unsubscribe?.();
      }
      case 'ping':
        return cache.ping();
    }
  }

  async function answer(request: ThreadCacheRequest) {
    try {
      post({ kind: 'result', id: request.id, value: await run(request) });
    } catch (error) {
      post({
        kind: 'failure',
        id: request.id,
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }

  const onRequest = (requests: ThreadCacheRequest[]) => {
    for (const request of requests) void answer(request);
  };

  function stop() {
    if (stopped) return;
    stopped = true;
    port.off('message', onRequest);
    port.off('close', stop);
    port.close();
    const subscriptions = [...forwarded.values()];
    forwarded.clear();
    for (const unsubscribe of subscriptions) {
      unsubscribe().catch(() => {
        // The owner's cache closed first; its subscriptions ended with it.
      });
    }
  }

  port.on('message', onRequest);
  port.on('close', stop);
  // Listening refs the port; the owner's thread must still be free to exit when nothing else holds it.
  port.unref();
  return stop;
}

export interface ThreadCacheOptions {
  /** Where errors thrown by subscribers go; without it they are rethrown (an uncaught exception). */
  log?: Logger;
}

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * A Cache whose every call is answered by the cache served on the other end of `port` (`serveCache`).
 * Values are encoded here, so a value that is not JSON fails in the caller as with the memory adapter.
 */
export function createThreadCache(port: MessagePort, options: ThreadCacheOptions = {}): Cache {
  const pending = new Map<number, PendingCall>();
  const listeners = new Map<number, (message: string) => void>();
  let lastId = 0;
  let closed = false;
  const send = batchedSender<ThreadCacheRequest>(port);

  const nextId = () => {
    lastId += 1;
    return lastId;
  };

  // Throws inside the async methods, so a closed cache rejects rather than throws, as memory does.
  const open = () => {
    if (closed) throw new Error('cache is closed');
  };

  function call<R extends ThreadCacheRequest>(request: R): Promise<ThreadCacheResults[R['kind']]> {
    const { promise, resolve, reject } = Promise.withResolvers<ThreadCacheResults[R['kind']]>();
    // The owner answers a request of each kind with that kind's ThreadCacheResults.
    pending.set(request.id, { resolve: resolve as (value: unknown) => void, reject });
    // Only a thread waiting for an answer is kept alive by the port.
    if (pending.size === 1) port.ref();
    send(request);
    return promise;
  }

  function take(id: number): PendingCall | undefined {
    const entry = pending.get(id);
    if (!entry) return undefined;
    pending.delete(id);
    if (pending.size === 0) port.unref();
    return entry;
  }

  function rejectPending(reason: string) {
    const entries = [...pending.values()];
    pending.clear();
    port.unref();
    for (const entry of entries) entry.reject(new Error(reason));
  }

  function deliver(reply: Extract<ThreadCacheReply, { kind: 'message' }>) {
    // Unsubscribed here already, though the owner may still have sent it: nothing after an unsubscribe.
    const listener = listeners.get(reply.subscriptionId);
    if (!listener) return;
    try {
      listener(reply.message);
    } catch (error) {
      if (!options.log) throw error;
      options.log.error({ err: error }, 'cache subscriber failed');
    }
  }

  function receive(reply: ThreadCacheReply) {
    switch (reply.kind) {
      case 'result':
        take(reply.id)?.resolve(reply.value);
        return;
      case 'failure':
        take(reply.id)?.reject(new Error(reply.message));
        return;
      case 'message':
        deliver(reply);
        return;
    }
  }

  const onReply = (replies: ThreadCacheReply[]) => {
    for (const reply of replies) receive(reply);
  };

  // The owner stopped serving or its thread ended: nothing sent from now on would be answered.
  const onPortClosed = () => {
    closed = true;
    listeners.clear();
    rejectPending('cache owner closed the port before answering');
  };

  port.on('message', onReply);
  port.on('close', onPortClosed);
  port.unref();

  return {
    async get<T>(key: string) {
      open();
      return (await call({ kind: 'get', id: nextId(), key })) as T | undefined;
    },
    async set(key, value, ttlSeconds) {
      open();
      const json = encode(value);
      toMs(ttlSeconds, 'ttlSeconds');
      await call({ kind: 'set', id: nextId(), key, json, ttlSeconds });
    },
    async setIfAbsent(key, value, ttlSeconds) {
      open();
      const json = encode(value);
      toMs(ttlSeconds, 'ttlSeconds');
      return call({ kind: 'setIfAbsent', id: nextId(), key, json, ttlSeconds });
    },
    async delete(...keys) {
      open();
      if (keys.length === 0) return;
      await call({ kind: 'delete', id: nextId(), keys });
    },
    async increment(key, windowSeconds) {
      open();
      toMs(windowSeconds, 'windowSeconds');
      return call({ kind: 'increment', id: nextId(), key, windowSeconds });
    },
    async publish(channel, message) {
      open();
      await call({ kind: 'publish', id: nextId(), channel, message });
    },
    async subscribe(channel, listener) {
      open();
      const subscriptionId = nextId();
      // Listening before asking: the owner may forward a message before its answer arrives.
      listeners.set(subscriptionId, listener);
      try {
        await call({ kind: 'subscribe', id: subscriptionId, channel });
      } catch (error) {
        listeners.delete(subscriptionId);
        throw error;
      }
      return async () => {
        if (!listeners.delete(subscriptionId) || closed) return;
        try {
          await call({ kind: 'unsubscribe', id: nextId(), subscriptionId });
        } catch (error) {
          // Closed meanwhile, which ends every subscription on the owner anyway.
          if (!closed) throw error;
        }
      };
    },
    async ping() {
      if (closed) return false;
      const id = nextId();
      const answered = call({ kind: 'ping', id });
      const timer = setTimeout(() => take(id)?.resolve(false), PING_TIMEOUT_MS);
      try {
        return await answered;
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      rejectPending('cache was closed before the owner answered');
      // The owner sees the port close and ends this side's subscriptions.
      port.off('close', onPortClosed);
      port.close();
    },
  };
}

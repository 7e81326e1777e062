/**
 * The key-value port every adapter implements (memory in embedded mode, Redis in scale-out). Values are
 * JSON. Deleting a key removes it from every instance's in-process layer too, which is how a change made
 * by one process is seen by the others.
 */
export interface Cache {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  /** Stores only when the key is absent; true when this call stored it (idempotency keys, locks). */
  setIfAbsent(key: string, value: unknown, ttlSeconds: number): Promise<boolean>;
  delete(...keys: string[]): Promise<void>;
  /**
   * Counts one hit in a fixed window that starts with the key's first hit and lasts `windowSeconds`;
   * atomic across every instance sharing the store. Returns the hits so far and the time to the reset.
   */
  increment(key: string, windowSeconds: number): Promise<{ count: number; resetInMs: number }>;
  /** Sends `message` to every subscriber of `channel` in every instance (fan-out, invalidation). */
  publish(channel: string, message: string): Promise<void>;
  /** Resolves once the subscription is active; the returned function ends it. */
  subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>>;
  /** True when the store answers (readiness). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Lets background work (consumer passes over the embedded bus) step aside while the HTTP server is busy
 * with clients. In one process on two cores, the request path and the delivery pipeline share an event
 * loop and the database; when clients keep many requests in flight, every millisecond the pipeline takes
 * is a millisecond a waiting client does not get. Work that was accepted is stored, so it can wait: a
 * burst is accepted at the request path's own pace and delivered once it eases. `maxDeferMs` bounds each
 * wait, so under load that never eases the pipeline still moves, one pass per wait.
 */
export interface ForegroundGate {
  /** A foreground request began; call `leave` once when it has been answered or abandoned. */
  enter(): void;
  leave(): void;
  /**
   * Resolves at once unless the server is busy (requests in flight, averaged over the last
   * `averageOverMs`, at `busyAt` or more); otherwise once it is not, or after `maxDeferMs`.
   */
  clear(): Promise<void>;
  /** Requests in flight now. */
  readonly inFlight: number;
  /** Requests in flight, averaged over about the last `averageOverMs`. */
  averageInFlight(): number;
}

export interface ForegroundGateOptions {
  /** Average requests in flight from which the server counts as busy. */
  busyAt: number;
  /** The time constant of the average: responses go out in batches, so the count alone saw-tooths. */
  averageOverMs: number;
  /** The longest one `clear()` waits. */
  maxDeferMs: number;
  /** How often a waiting `clear()` looks again. */
  recheckMs: number;
  /** Monotonic milliseconds; performance.now by default. */
  now?: () => number;
}

export function createForegroundGate(options: ForegroundGateOptions): ForegroundGate {
  const { busyAt, averageOverMs, maxDeferMs, recheckMs } = options;
  if (!(busyAt > 0)) throw new RangeError(`busyAt must be above 0; got ${busyAt}`);
  for (const [name, value] of Object.entries({ averageOverMs, maxDeferMs, recheckMs })) {
    if (!(value > 0)) throw new RangeError(`${name} must be above 0; got ${value}`);
  }
  const now = options.now ?? (() => performance.now());
  let inFlight = 0;
  let average = 0;
  let averagedAt = now();

  // An exponentially weighted average over time: the count held since the last change weighs in by how long it held.
  function averageNow(): number {
    const at = now();
    const elapsedMs = at - averagedAt;
    if (elapsedMs > 0) {
      average += (inFlight - average) * (1 - Math.exp(-elapsedMs / averageOverMs));
      averagedAt = at;
    }
    return average;
  }

  return {
    enter() {
      averageNow();
      inFlight += 1;
    },
    leave() {
      averageNow();
      inFlight -= 1;
    },
    clear() {
      if (averageNow() < busyAt) return Promise.resolve();
      const since = now();
      return new Promise<void>((resolve) => {
        const look = () => {
          if (averageNow() < busyAt) resolve();
          else if (now() - since >= maxDeferMs) resolve();
          else setTimeout(look, recheckMs);
        };
        setTimeout(look, recheckMs);
      });
    },
    get inFlight() {
      return inFlight;
    },
    averageInFlight: averageNow,
  };
}

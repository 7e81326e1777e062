/**
 * A circuit breaker for one downstream target (an upstream URL, an email or push provider). It only
 * decides; the caller asks `canRequest()` before each call and reports the outcome. Time comes from the
 * injected clock, so it holds no timers and tests never wait.
 */
import { Gauge, type Registry } from 'prom-client';

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  /** Failures within `failureWindowMs` that open the circuit. */
  failureThreshold: number;
  failureWindowMs: number;
  /** How long the circuit stays open before trial requests are let through. */
  openDurationMs: number;
  /** Consecutive trial successes in half-open that close the circuit. */
  successesToClose: number;
  /** Trial requests allowed at once while half-open; default 1. */
  halfOpenMaxTrials?: number;
  /** Milliseconds since the epoch (or any monotonic origin). */
  clock: () => number;
  onStateChange?: (state: CircuitState, previous: CircuitState) => void;
}

export interface CircuitBreaker {
  readonly state: CircuitState;
  /**
   * Whether a call may go out now. In half-open a `true` takes one of the few trial slots, so call it
   * only right before calling the target, and report the outcome afterwards.
   */
  canRequest(): boolean;
  recordSuccess(): void;
  recordFailure(): void;
  /** Time until a refused caller may try again: the rest of the open period, 0 when calls go through. */
  retryAfterMs(): number;
}

/** Source system C: open after 5 failures in 60 s, half-open after 30 s, close after 2 successes. */
export const SOURCE_C_BREAKER = {
  failureThreshold: 5,
  failureWindowMs: 60_000,
  openDurationMs: 30_000,
  successesToClose: 2,
  halfOpenMaxTrials: 1,
} as const satisfies Omit<CircuitBreakerOptions, 'clock' | 'onStateChange'>;

/** The value `circuit_breaker_state` reports for each state, shared by every breaker that exports one. */
export const CIRCUIT_STATE_GAUGE_VALUE: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

const exportedBreakers = new WeakMap<Registry, Set<ReadonlyMap<string, CircuitBreaker>>>();

/**
 * Exports `breakers` (target → breaker) as `circuit_breaker_state{target}` in `registry`. One gauge per
 * registry serves every caller (the gateway's upstreams, the delivery providers) and reads all their
 * breakers when scraped: open turns half-open with time alone, so a value set on state changes would
 * go stale without traffic. Targets added to a map later show from the next scrape.
 */
export function exportBreakerStates(registry: Registry, breakers: ReadonlyMap<string, CircuitBreaker>): void {
  let sources = exportedBreakers.get(registry);
  if (!sources) {
    const all = new Set<ReadonlyMap<string, CircuitBreaker>>();
    sources = all;
    exportedBreakers.set(registry, all);
    new Gauge<'target'>({
      name: 'circuit_breaker_state',
      help: 'Circuit breaker state per target: 0 closed, 1 half-open, 2 open',
      labelNames: ['target'],
      registers: [registry],
      collect() {
        for (const map of all)
          for (const [target, breaker] of map) this.set({ target }, CIRCUIT_STATE_GAUGE_VALUE[breaker.state]);
      },
    });
  }
  sources.add(breakers);
}

export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const maxTrials = options.halfOpenMaxTrials ?? 1;
  for (const [name, value] of Object.entries({
    failureThreshold: options.failureThreshold,
    failureWindowMs: options.failureWindowMs,
    openDurationMs: options.openDurationMs,
    successesToClose: options.successesToClose,
    halfOpenMaxTrials: maxTrials,
  })) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number`);
  }

  let state: CircuitState = 'closed';
  let failureTimesMs: number[] = [];
  let openedAtMs = 0;
  let trialSuccesses = 0;
  // When each outstanding trial was let through: a caller that never reports back (its request was
  // cancelled) must not hold a slot for ever, so a slot older than the open period is given back.
  let trialStartsMs: number[] = [];

  function moveTo(next: CircuitState, nowMs: number): void {
    if (next === state) return;
    const previous = state;
    state = next;
    failureTimesMs = [];
    trialSuccesses = 0;
    trialStartsMs = [];
    if (next === 'open') openedAtMs = nowMs;
    options.onStateChange?.(next, previous);
  }

  /** Open turns half-open by the passing of time, which is only noticed when someone looks. */
  function current(nowMs: number): CircuitState {
    if (state === 'open' && nowMs - openedAtMs >= options.openDurationMs) moveTo('half_open', nowMs);
    return state;
  }

  return {
    get state() {
      return current(options.clock());
    },

    canRequest() {
      const nowMs = options.clock();
      switch (current(nowMs)) {
        case 'closed':
          return true;
        case 'open':
          return false;
        case 'half_open': {
          trialStartsMs = trialStartsMs.filter((startMs) => nowMs - startMs < options.openDurationMs);
          if (trialStartsMs.length >= maxTrials) return false;
          trialStartsMs.push(nowMs);
          return true;
        }
      }
    },

    recordSuccess() {
      const nowMs = options.clock();
      // Successes while closed change nothing (the threshold counts failures in a window, not a
      // streak); a late success while open comes from a call made before the circuit opened.
      if (current(nowMs) !== 'half_open') return;
      trialStartsMs.shift();
      trialSuccesses += 1;
      if (trialSuccesses >= options.successesToClose) moveTo('closed', nowMs);
    },

    recordFailure() {
      const nowMs = options.clock();
      switch (current(nowMs)) {
        case 'closed':
          failureTimesMs = failureTimesMs.filter((timeMs) => nowMs - timeMs < options.failureWindowMs);
          failureTimesMs.push(nowMs);
          if (failureTimesMs.length >= options.failureThreshold) moveTo('open', nowMs);
          return;
        case 'half_open':
          // The target is still unwell: one failed trial starts a full open period again.
          moveTo('open', nowMs);
          return;
        case 'open':
          return;
      }
    },

    retryAfterMs() {
      const nowMs = options.clock();
      if (current(nowMs) !== 'open') return 0;
      return Math.max(0, openedAtMs + options.openDurationMs - nowMs);
    },
  };
}

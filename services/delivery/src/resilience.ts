import { performance } from 'node:perf_hooks';
import {
  type CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
  createCircuitBreaker,
  exportBreakerStates,
  type Logger,
  SOURCE_C_BREAKER,
} from '@switchyard/kernel';
import { Histogram, type Registry } from 'prom-client';
import {
  type ChannelProvider,
  type DeliveryOutcome,
  isProviderFault,
  type SendContext,
  transient,
} from './domain.ts';

export type BreakerSettings = Omit<CircuitBreakerOptions, 'clock' | 'onStateChange'>;

/** An outcome and the provider that produced it (the fallback's name when it stood in). */
export type RoutedOutcome = DeliveryOutcome & { provider: string };

export interface ResilientChannelOptions<M> {
  primary: ChannelProvider<M>;
  /** Used while the primary's breaker is open, and for a message the primary refused as misconfigured. */
  fallback?: ChannelProvider<M>;
  /** Default: source system C's (5 failures in 60 s open it, 30 s open, 2 successes close it). */
  breaker?: BreakerSettings;
  /** Milliseconds; drives the breakers, so tests move time instead of waiting. */
  clock: () => number;
  /** Where `circuit_breaker_state` and `delivery_provider_duration_seconds` are registered. */
  metrics?: { registry: Registry };
  log?: Logger;
  /**
   * The breaker a message is counted against; default the provider's name. Webhooks key it by the
   * receiver's host, so one customer's broken endpoint does not stop everyone else's deliveries.
   */
  breakerTarget?: (provider: ChannelProvider<M>, message: M) => string;
  name?: string;
}

export interface ResilientChannel<M> extends ChannelProvider<M> {
  send(message: M, context: SendContext): Promise<RoutedOutcome>;
  /** A target's breaker state; undefined before its first message. */
  breakerState(target: string): CircuitState | undefined;
}

const DURATION_HISTOGRAM = 'delivery_provider_duration_seconds';

/**
 * Breakers are kept per metrics registry and target, so every channel of a process that sends through
 * one provider shares its breaker (its health is one fact) and the gauge reads them all at scrape time.
 */
const breakersByRegistry = new WeakMap<Registry, Map<string, CircuitBreaker>>();

/** Time a provider took to answer, by channel, provider and outcome status; created once per registry. */
export function deliveryDurationHistogram(registry: Registry): Histogram<'channel' | 'provider' | 'status'> {
  const existing = registry.getSingleMetric(DURATION_HISTOGRAM);
  if (existing instanceof Histogram) return existing as Histogram<'channel' | 'provider' | 'status'>;
  return new Histogram<'channel' | 'provider' | 'status'>({
    name: DURATION_HISTOGRAM,
    help: 'Time from handing a message to a delivery provider to its answer, by channel, provider and outcome',
    labelNames: ['channel', 'provider', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
}

/**
 * A channel's providers behind circuit breakers. A provider whose breaker is open (or whose one
 * half-open trial is taken) is skipped for the fallback; with both unavailable the outcome is transient
 * "circuit open" with the time until a breaker lets calls through. Only provider faults count: transient
 * failures and refused credentials; a bad address or payload says nothing about the provider.
 *
 * A transient failure is returned, not tried again on the fallback: a timeout can hide a message the
 * primary did send, and the runner's retry (1 s / 2 s / 4 s, then dead letters) decides what comes next.
 * A refusal of our credentials is certain not to have sent anything, so that message goes on to the
 * fallback at once.
 */
export function createResilientChannel<M>(options: ResilientChannelOptions<M>): ResilientChannel<M> {
  const { primary, fallback, clock, log } = options;
  if (fallback && fallback.channel !== primary.channel) {
    throw new Error(
      `fallback ${fallback.name} is a ${fallback.channel} provider, ${primary.name} is ${primary.channel}`,
    );
  }
  const settings = options.breaker ?? SOURCE_C_BREAKER;
  const registry = options.metrics?.registry;
  let breakers = registry ? breakersByRegistry.get(registry) : undefined;
  if (!breakers) {
    breakers = new Map<string, CircuitBreaker>();
    if (registry) breakersByRegistry.set(registry, breakers);
  }
  const shared = breakers;
  if (registry) exportBreakerStates(registry, shared);
  const durations = registry ? deliveryDurationHistogram(registry) : undefined;
  const targetOf = options.breakerTarget ?? ((provider: ChannelProvider<M>) => provider.name);

  function breakerFor(target: string): CircuitBreaker {
    let breaker = shared.get(target);
    if (!breaker) {
      breaker = createCircuitBreaker({
        ...settings,
        clock,
        onStateChange: (state, previous) => {
          log?.[state === 'open' ? 'warn' : 'info'](
            { target, state, previous },
            `circuit breaker for delivery provider ${target} is ${state}`,
          );
        },
      });
      shared.set(target, breaker);
    }
    return breaker;
  }

  // Known targets show in the gauge from the start, as the gateway's upstreams do; per-destination
  // breakers appear with their first message.
  if (!options.breakerTarget)
    for (const provider of fallback ? [primary, fallback] : [primary]) breakerFor(provider.name);

  async function attempt(
    provider: ChannelProvider<M>,
    message: M,
    context: SendContext,
  ): Promise<DeliveryOutcome> {
    const startedMs = performance.now();
    let outcome: DeliveryOutcome;
    try {
      outcome = await provider.send(message, context);
    } catch (error) {
      // The port says providers never throw; one that does is treated as a failed call, not a crash.
      log?.error({ err: error, provider: provider.name }, 'delivery provider threw');
      outcome = transient(
        `provider ${provider.name} failed unexpectedly: ${(error as Error)?.message ?? String(error)}`,
      );
    }
    durations?.observe(
      { channel: provider.channel, provider: provider.name, status: outcome.status },
      (performance.now() - startedMs) / 1000,
    );
    return outcome;
  }

  return {
    name: options.name ?? primary.channel,
    channel: primary.channel,

    async send(message, context) {
      const waits: number[] = [];
      let refused: RoutedOutcome | undefined;
      for (const provider of fallback ? [primary, fallback] : [primary]) {
        const breaker = breakerFor(targetOf(provider, message));
        if (!breaker.canRequest()) {
          waits.push(breaker.retryAfterMs());
          continue;
        }
        const outcome = await attempt(provider, message, context);
        const routed: RoutedOutcome = { ...outcome, provider: provider.name };
        // Our own cancellation (shutdown) says nothing about the provider.
        if (outcome.status === 'transient' && context.signal?.aborted) return routed;
        if (isProviderFault(outcome)) breaker.recordFailure();
        else breaker.recordSuccess();
        if (outcome.status === 'permanent' && outcome.cause === 'configuration') {
          refused ??= routed;
          continue;
        }
        return routed;
      }
      if (refused) return refused;
      return {
        ...transient('circuit open', { code: 'circuit_open', retryAfterMs: Math.min(...waits) }),
        provider: primary.name,
      };
    },

    breakerState: (target) => shared.get(target)?.state,
  };
}

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createCircuitBreaker, exportBreakerStates, SOURCE_C_BREAKER } from '@switchyard/kernel';
import { startSmtpSink } from '@switchyard/testing/smtp';
import { Registry } from 'prom-client';
import type { ChannelProvider, DeliveryOutcome } from '../src/domain.ts';
import { startMailCapture } from '../src/mail-capture.ts';
import { createSmtpEmailProvider } from '../src/providers/email-smtp.ts';
import { createResilientChannel, deliveryDurationHistogram } from '../src/resilience.ts';
import { manualClock } from './helpers.ts';

const SENT: DeliveryOutcome = { status: 'sent', providerMessageId: 'm-1', reason: 'ok' };
const DOWN: DeliveryOutcome = { status: 'transient', reason: 'connection refused', code: 'network' };
const BAD_ADDRESS: DeliveryOutcome = {
  status: 'permanent',
  cause: 'recipient',
  reason: 'no such mailbox',
  code: '550',
};
const BAD_CREDENTIALS: DeliveryOutcome = {
  status: 'permanent',
  cause: 'configuration',
  reason: 'auth failed',
  code: '535',
};

/** A provider whose answers the test sets; it records which messages reached it. */
function scriptedProvider(name: string) {
  let answer: (message: string) => Promise<DeliveryOutcome> | DeliveryOutcome = () => SENT;
  const received: string[] = [];
  const provider: ChannelProvider<string> = {
    name,
    channel: 'email',
    async send(message) {
      received.push(message);
      return answer(message);
    },
  };
  return {
    provider,
    received,
    answers(next: DeliveryOutcome | ((message: string) => Promise<DeliveryOutcome> | DeliveryOutcome)) {
      answer = typeof next === 'function' ? next : () => next;
    },
  };
}

async function gaugeValue(registry: Registry, target: string): Promise<number | undefined> {
  const metric = registry.getSingleMetric('circuit_breaker_state');
  if (!metric) return undefined;
  const { values } = await metric.get();
  return values.find((value) => value.labels.target === target)?.value;
}

function setup(options: { fallback?: boolean } = {}) {
  const clock = manualClock();
  const registry = new Registry();
  const primary = scriptedProvider('primary-smtp');
  const fallback = scriptedProvider('fallback-smtp');
  const channel = createResilientChannel({
    primary: primary.provider,
    ...(options.fallback === false ? {} : { fallback: fallback.provider }),
    clock: clock.now,
    metrics: { registry },
  });
  const send = (message: string) => channel.send(message, { idempotencyKey: message });
  return { clock, registry, primary, fallback, channel, send };
}

describe('resilient channel (source C breaker: 5 failures in 60 s, open 30 s, 2 successes close)', () => {
  test('opens after 5 transient failures, uses the fallback, half-opens after 30 s and closes after 2 successes', async () => {
    const { clock, registry, primary, fallback, channel, send } = setup();
    assert.equal(await gaugeValue(registry, 'primary-smtp'), 0);

    primary.answers(DOWN);
    for (let n = 1; n <= 5; n++) {
      const outcome = await send(`m${n}`);
      assert.deepEqual(
        outcome,
        { ...DOWN, provider: 'primary-smtp' },
        'transient failures are returned, not failed over',
      );
      clock.advance(1_000);
    }
    assert.equal(channel.breakerState('primary-smtp'), 'open');
    assert.equal(await gaugeValue(registry, 'primary-smtp'), 2);
    assert.deepEqual(fallback.received, []);

    // Open: the fallback takes the messages; the primary is not called.
    const viaFallback = await send('m6');
    assert.equal(viaFallback.status, 'sent');
    assert.equal(viaFallback.provider, 'fallback-smtp');
    assert.deepEqual(fallback.received, ['m6']);
    assert.equal(primary.received.length, 5);

    // 30 s after opening (at the 5th failure, 1 s ago): half-open, one trial goes to the primary.
    clock.advance(30_000 - 1_000 - 1);
    assert.equal(channel.breakerState('primary-smtp'), 'open');
    clock.advance(1);
    assert.equal(channel.breakerState('primary-smtp'), 'half_open');
    assert.equal(await gaugeValue(registry, 'primary-smtp'), 1, 'read at scrape time, without traffic');

    // While the one trial is in flight, other messages go to the fallback.
    let finishTrial: (outcome: DeliveryOutcome) => void = () => {};
    primary.answers(() => new Promise<DeliveryOutcome>((resolve) => (finishTrial = resolve)));
    const trial = send('trial-1');
    const meanwhile = await send('m7');
    assert.equal(meanwhile.provider, 'fallback-smtp');
    finishTrial(SENT);
    assert.equal((await trial).provider, 'primary-smtp');
    assert.equal(channel.breakerState('primary-smtp'), 'half_open', 'one success is not enough');

    primary.answers(SENT);
    const second = await send('trial-2');
    assert.equal(second.provider, 'primary-smtp');
    assert.equal(channel.breakerState('primary-smtp'), 'closed');
    assert.equal(await gaugeValue(registry, 'primary-smtp'), 0);
    assert.equal((await send('m8')).provider, 'primary-smtp');
  });

  test('a failed half-open trial opens the circuit for another 30 s', async () => {
    const { clock, primary, channel, send } = setup();
    primary.answers(DOWN);
    for (let n = 0; n < 5; n++) await send(`m${n}`);
    clock.advance(30_000);
    assert.equal((await send('trial')).provider, 'primary-smtp');
    assert.equal(channel.breakerState('primary-smtp'), 'open');
    clock.advance(29_999);
    assert.equal((await send('still-open')).provider, 'fallback-smtp');
  });

  test('failures spread over more than 60 s do not open it', async () => {
    const { clock, primary, channel, send } = setup();
    primary.answers(DOWN);
    for (let n = 0; n < 4; n++) await send(`m${n}`);
    clock.advance(61_000);
    await send('m4');
    assert.equal(channel.breakerState('primary-smtp'), 'closed');
  });

  test('permanent failures about the message do not count against the provider', async () => {
    const { primary, channel, send } = setup();
    primary.answers(BAD_ADDRESS);
    for (let n = 0; n < 10; n++) {
      const outcome = await send(`m${n}`);
      assert.deepEqual(outcome, { ...BAD_ADDRESS, provider: 'primary-smtp' });
    }
    assert.equal(channel.breakerState('primary-smtp'), 'closed');
  });

  test('refused credentials count, and that message goes on to the fallback at once', async () => {
    const { primary, fallback, channel, send } = setup();
    primary.answers(BAD_CREDENTIALS);
    const outcome = await send('m1');
    assert.equal(outcome.status, 'sent');
    assert.equal(outcome.provider, 'fallback-smtp');
    assert.deepEqual(primary.received, ['m1']);
    assert.deepEqual(fallback.received, ['m1']);
    for (let n = 2; n <= 5; n++) await send(`m${n}`);
    assert.equal(channel.breakerState('primary-smtp'), 'open');
  });

  test('with refused credentials and no fallback, the refusal is the outcome', async () => {
    const { primary, send } = setup({ fallback: false });
    primary.answers(BAD_CREDENTIALS);
    assert.deepEqual(await send('m1'), { ...BAD_CREDENTIALS, provider: 'primary-smtp' });
  });

  test('both unavailable: transient "circuit open" with the time until a breaker lets calls through', async () => {
    const { clock, primary, fallback, send } = setup();
    primary.answers(DOWN);
    fallback.answers(DOWN);
    for (let n = 0; n < 5; n++) await send(`p${n}`);
    for (let n = 0; n < 5; n++) await send(`f${n}`); // primary open: these reach the fallback
    clock.advance(10_000);
    const outcome = await send('nowhere');
    assert.deepEqual(outcome, {
      status: 'transient',
      reason: 'circuit open',
      code: 'circuit_open',
      retryAfterMs: 20_000,
      provider: 'primary-smtp',
    });
  });

  test('a provider that throws is a transient failure, not a crash', async () => {
    const { primary, send } = setup();
    primary.answers(() => {
      throw new Error('bug');
    });
    const outcome = await send('m1');
    assert.equal(outcome.status, 'transient');
    assert.match(outcome.reason, /bug/);
  });

  test('our own cancellation does not count against the provider', async () => {
    const { primary, channel } = setup();
    primary.answers({ status: 'transient', reason: 'cancelled', code: 'cancelled' });
    for (let n = 0; n < 6; n++) {
      await channel.send(`m${n}`, { idempotencyKey: `m${n}`, signal: AbortSignal.abort() });
    }
    assert.equal(channel.breakerState('primary-smtp'), 'closed');
  });

  test('a breaker per destination: one failing webhook host does not stop the others', async () => {
    const clock = manualClock();
    const hooks = scriptedProvider('webhook');
    hooks.answers((url) => (url.includes('broken.example') ? DOWN : SENT));
    const channel = createResilientChannel({
      primary: hooks.provider,
      clock: clock.now,
      breakerTarget: (provider, url) => `${provider.name}:${new URL(url).host}`,
    });
    for (let n = 0; n < 5; n++)
      await channel.send('https://broken.example/hook', { idempotencyKey: `b${n}` });
    assert.equal(channel.breakerState('webhook:broken.example'), 'open');
    assert.equal(
      (await channel.send('https://broken.example/hook', { idempotencyKey: 'b6' })).reason,
      'circuit open',
    );
    assert.equal((await channel.send('https://fine.example/hook', { idempotencyKey: 'f1' })).status, 'sent');
  });

  test('shares circuit_breaker_state with breakers exported first (the gateway’s): all read at scrape time', async () => {
    const registry = new Registry();
    const clock = manualClock();
    // The gateway's upstream breakers, exported before the delivery channel's.
    const upstream = createCircuitBreaker({ ...SOURCE_C_BREAKER, clock: clock.now });
    exportBreakerStates(registry, new Map([['http://tasks.internal', upstream]]));
    const primary = scriptedProvider('smtp');
    const channel = createResilientChannel({
      primary: primary.provider,
      clock: clock.now,
      metrics: { registry },
    });
    primary.answers(DOWN);
    for (let n = 1; n <= 5; n++) await channel.send(`m${n}`, { idempotencyKey: `m${n}` });
    assert.equal(await gaugeValue(registry, 'smtp'), 2);
    assert.equal(await gaugeValue(registry, 'http://tasks.internal'), 0);
    // Open turns half-open with time alone: the second registrant's breaker shows it too.
    clock.advance(30_000);
    assert.equal(await gaugeValue(registry, 'smtp'), 1);
    // Returns the histogram the channel registered (reused if present), typed.
    const histogram = deliveryDurationHistogram(registry);
    const counts = (await histogram.get()).values.filter(
      (value) => value.metricName === 'delivery_provider_duration_seconds_count',
    );
    assert.deepEqual(
      counts?.map((value) => [value.labels, value.value]),
      [[{ channel: 'email', provider: 'smtp', status: 'transient' }, 5]],
    );
  });

  test('a fallback for another channel is refused', () => {
    const email = scriptedProvider('smtp').provider;
    const sms: ChannelProvider<string> = { ...scriptedProvider('twilio').provider, channel: 'sms' };
    assert.throws(
      () => createResilientChannel({ primary: email, fallback: sms, clock: Date.now }),
      /fallback twilio/,
    );
  });
});

describe('resilient email channel over real SMTP servers', () => {
  test('primary down → 5 transient failures → fallback delivers → 30 s later the primary is tried and closes after 2', async () => {
    const clock = manualClock();
    const registry = new Registry();
    const primaryServer = await startSmtpSink();
    const fallbackServer = await startMailCapture();
    const primary = createSmtpEmailProvider({
      name: 'smtp-primary',
      smtpUrl: primaryServer.url,
      from: 'noreply@switchyard.test',
    });
    const fallback = createSmtpEmailProvider({
      name: 'smtp-fallback',
      smtpUrl: fallbackServer.url,
      from: 'noreply@switchyard.test',
    });
    const channel = createResilientChannel({ primary, fallback, clock: clock.now, metrics: { registry } });
    const send = (subject: string) =>
      channel.send({ to: 'ada@example.com', subject, text: subject }, { idempotencyKey: subject });
    try {
      await primaryServer.down();
      for (let n = 1; n <= 5; n++) {
        const outcome = await send(`down-${n}`);
        assert.equal(outcome.status, 'transient');
        assert.equal(outcome.provider, 'smtp-primary');
      }
      assert.equal(await gaugeValue(registry, 'smtp-primary'), 2);

      const arrived = fallbackServer.next({ match: (mail) => mail.subject === 'via-fallback' });
      const viaFallback = await send('via-fallback');
      assert.equal(viaFallback.status, 'sent');
      assert.equal(viaFallback.provider, 'smtp-fallback');
      assert.equal((await arrived).text, 'via-fallback');

      await primaryServer.up();
      clock.advance(30_000);
      for (const subject of ['trial-1', 'trial-2']) {
        const outcome = await send(subject);
        assert.equal(outcome.status, 'sent');
        assert.equal(outcome.provider, 'smtp-primary');
      }
      assert.equal(channel.breakerState('smtp-primary'), 'closed');
      assert.equal(await gaugeValue(registry, 'smtp-primary'), 0);
      assert.deepEqual(
        primaryServer.messages.items.map((mail) => mail.subject),
        ['trial-1', 'trial-2'],
      );
    } finally {
      primary.close();
      fallback.close();
      await primaryServer.close();
      await fallbackServer.close();
    }
  });
});

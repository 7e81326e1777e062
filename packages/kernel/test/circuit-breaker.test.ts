import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CircuitState, createCircuitBreaker, SOURCE_C_BREAKER } from '../src/circuit-breaker.ts';

function breakerAt(startMs = 1_000_000) {
  let nowMs = startMs;
  const changes: Array<[CircuitState, CircuitState]> = [];
  const breaker = createCircuitBreaker({
    ...SOURCE_C_BREAKER,
    clock: () => nowMs,
    onStateChange: (state, previous) => changes.push([previous, state]),
  });
  return {
    breaker,
    changes,
    advance(ms: number) {
      nowMs += ms;
    },
    fail(times: number) {
      for (let i = 0; i < times; i++) breaker.recordFailure();
    },
  };
}

describe('circuit breaker', () => {
  it('given source C defaults, then they are 5 failures in 60 s, 30 s open, 2 successes, 1 trial', () => {
    assert.deepEqual(SOURCE_C_BREAKER, {
      failureThreshold: 5,
      failureWindowMs: 60_000,
      openDurationMs: 30_000,
      successesToClose: 2,
      halfOpenMaxTrials: 1,
    });
  });

  it('given a closed circuit with 4 failures, when checked, then requests still go through', () => {
    const { breaker, fail } = breakerAt();
    fail(4);
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.canRequest(), true);
    assert.equal(breaker.retryAfterMs(), 0);
  });

  it('given 5 failures within 60 s, when checked, then it is open, refuses, and says when to retry', () => {
    const { breaker, changes, advance, fail } = breakerAt();
    fail(2);
    advance(59_000);
    fail(3);
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.canRequest(), false);
    assert.equal(breaker.retryAfterMs(), 30_000);
    advance(10_000);
    assert.equal(breaker.retryAfterMs(), 20_000);
    assert.deepEqual(changes, [['closed', 'open']]);
  });

  it('given failures spread wider than the 60 s window, when the fifth arrives, then it stays closed', () => {
    const { breaker, advance, fail } = breakerAt();
    fail(1);
    advance(60_000);
    fail(4);
    assert.equal(breaker.state, 'closed');
    fail(1);
    assert.equal(breaker.state, 'open');
  });

  it('given successes between failures, when 5 failures fall in the window, then it still opens', () => {
    const { breaker, fail } = breakerAt();
    for (let i = 0; i < 5; i++) {
      breaker.recordSuccess();
      fail(1);
    }
    assert.equal(breaker.state, 'open');
  });

  it('given an open circuit, when 30 s pass, then it is half-open and lets exactly one trial through', () => {
    const { breaker, changes, advance, fail } = breakerAt();
    fail(5);
    advance(29_999);
    assert.equal(breaker.canRequest(), false);
    advance(1);
    assert.equal(breaker.state, 'half_open');
    assert.equal(breaker.canRequest(), true);
    assert.equal(breaker.canRequest(), false, 'a second caller must wait for the trial');
    assert.deepEqual(changes, [
      ['closed', 'open'],
      ['open', 'half_open'],
    ]);
  });

  it('given half-open, when 2 trials succeed, then it closes and forgets the old failures', () => {
    const { breaker, changes, advance, fail } = breakerAt();
    fail(5);
    advance(30_000);
    assert.equal(breaker.canRequest(), true);
    breaker.recordSuccess();
    assert.equal(breaker.state, 'half_open', 'one success is not enough');
    assert.equal(breaker.canRequest(), true, 'the slot is free again after the first trial reported');
    breaker.recordSuccess();
    assert.equal(breaker.state, 'closed');
    fail(4);
    assert.equal(breaker.state, 'closed', 'failures before closing do not count towards the next opening');
    assert.deepEqual(changes.at(-1), ['half_open', 'closed']);
  });

  it('given half-open, when a trial fails, then it opens for a full period again', () => {
    const { breaker, advance, fail } = breakerAt();
    fail(5);
    advance(30_000);
    assert.equal(breaker.canRequest(), true);
    breaker.recordFailure();
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.retryAfterMs(), 30_000);
  });

  it('given a trial whose caller never reports, when the open period passes again, then its slot is freed', () => {
    const { breaker, advance, fail } = breakerAt();
    fail(5);
    advance(30_000);
    assert.equal(breaker.canRequest(), true);
    advance(29_999);
    assert.equal(breaker.canRequest(), false);
    advance(1);
    assert.equal(breaker.canRequest(), true);
  });

  it('given an open circuit, when a late success from an earlier call arrives, then it stays open', () => {
    const { breaker, fail } = breakerAt();
    fail(5);
    breaker.recordSuccess();
    breaker.recordFailure();
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.retryAfterMs(), 30_000);
  });

  it('given a limit of 2 trials, when half-open, then two callers pass and the third waits', () => {
    let nowMs = 0;
    const breaker = createCircuitBreaker({
      ...SOURCE_C_BREAKER,
      halfOpenMaxTrials: 2,
      clock: () => nowMs,
    });
    for (let i = 0; i < 5; i++) breaker.recordFailure();
    nowMs = 30_000;
    assert.deepEqual([breaker.canRequest(), breaker.canRequest(), breaker.canRequest()], [true, true, false]);
  });

  it('given a zero or negative setting, when created, then it refuses naming the setting', () => {
    assert.throws(
      () => createCircuitBreaker({ ...SOURCE_C_BREAKER, failureThreshold: 0, clock: () => 0 }),
      /failureThreshold must be a positive number/,
    );
    assert.throws(
      () => createCircuitBreaker({ ...SOURCE_C_BREAKER, openDurationMs: Number.NaN, clock: () => 0 }),
      /openDurationMs/,
    );
  });
});

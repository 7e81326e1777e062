import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { createForegroundGate, type ForegroundGateOptions } from '../src/foreground.ts';

const OPTIONS = { busyAt: 4, averageOverMs: 100, maxDeferMs: 1_000, recheckMs: 10 };

/** A gate on the test's mocked clock: `tick` moves its average and its timers together. */
function gateOnMockedTime(t: TestContext, options: ForegroundGateOptions = OPTIONS) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const gate = createForegroundGate({ ...options, now: () => Date.now() });
  let cleared = false;
  const clear = () => {
    cleared = false;
    void gate.clear().then(() => {
      cleared = true;
    });
  };
  /** Moves time on in steps (timers fire in order) and lets the promises that settle meanwhile run. */
  const tick = async (ms: number, stepMs = 5) => {
    for (let moved = 0; moved < ms; moved += stepMs) {
      t.mock.timers.tick(Math.min(stepMs, ms - moved));
      await Promise.resolve();
      await Promise.resolve();
    }
  };
  return { gate, clear, tick, isCleared: () => cleared };
}

describe('createForegroundGate', () => {
  it('lets background work through at once while few requests are in flight', async (t) => {
    const { gate, clear, tick, isCleared } = gateOnMockedTime(t);
    for (let i = 0; i < 3; i += 1) gate.enter();
    await tick(1_000);
    assert.ok(gate.averageInFlight() > 2.9 && gate.averageInFlight() < 4);
    clear();
    await tick(0);
    assert.equal(isCleared(), true, 'three in flight is below busyAt 4');
  });

  it('holds background work while requests keep the server busy, and lets it go once they ease', async (t) => {
    const { gate, clear, tick, isCleared } = gateOnMockedTime(t);
    for (let i = 0; i < 8; i += 1) gate.enter();
    await tick(300);
    assert.ok(gate.averageInFlight() >= 4);
    clear();
    await tick(200);
    assert.equal(isCleared(), false, 'eight in flight for 500 ms: busy');
    for (let i = 0; i < 8; i += 1) gate.leave();
    assert.equal(gate.inFlight, 0);
    // The average decays (100 ms time constant) from about 8 to under 4 in about 70 ms.
    await tick(40);
    assert.equal(isCleared(), false, 'the average has not fallen below busyAt yet');
    await tick(60);
    assert.equal(isCleared(), true);
  });

  it('holds background work at most maxDeferMs when the load never eases', async (t) => {
    const { gate, clear, tick, isCleared } = gateOnMockedTime(t);
    for (let i = 0; i < 50; i += 1) gate.enter();
    await tick(500);
    clear();
    await tick(980);
    assert.equal(isCleared(), false);
    await tick(40);
    assert.equal(isCleared(), true, 'released after 1,000 ms although 50 requests are still in flight');
  });

  it('does not count a short burst as busy: responses go out in batches', async (t) => {
    const { gate, clear, tick, isCleared } = gateOnMockedTime(t);
    for (let i = 0; i < 30; i += 1) gate.enter();
    await tick(5);
    for (let i = 0; i < 30; i += 1) gate.leave();
    assert.ok(gate.averageInFlight() < 4, `30 in flight for 5 ms averages ${gate.averageInFlight()}`);
    clear();
    await tick(0);
    assert.equal(isCleared(), true);
  });

  it('refuses options that would make it never or always busy', () => {
    for (const bad of [
      { busyAt: 0 },
      { busyAt: -1 },
      { averageOverMs: 0 },
      { maxDeferMs: Number.NaN },
      { recheckMs: 0 },
    ]) {
      assert.throws(() => createForegroundGate({ ...OPTIONS, ...bad }), RangeError, JSON.stringify(bad));
    }
  });
});

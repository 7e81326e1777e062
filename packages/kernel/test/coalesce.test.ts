import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCoalescer } from '../src/coalesce.ts';

/** A write whose rounds the test finishes by hand, so what shares a round is decided, not timed. */
function heldWrites() {
  const rounds: { items: number[]; finish: (error?: Error) => void }[] = [];
  let arrived: () => void = () => {};
  const write = (items: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      rounds.push({
        items,
        finish: (error) => (error ? reject(error) : resolve(items.map((item) => item * 10))),
      });
      arrived();
    });
  const nextRound = () => new Promise<void>((resolve) => (arrived = resolve));
  return { rounds, write, nextRound };
}

describe('createCoalescer', () => {
  it('writes a lone item at once, and what arrives meanwhile as the next round', async () => {
    const held = heldWrites();
    const coalescer = createCoalescer(held.write, { maxItems: 100 });
    const first = coalescer.add(1);
    assert.deepEqual(
      held.rounds.map((round) => round.items),
      [[1]],
    );
    const later = [coalescer.add(2), coalescer.add(3), coalescer.add(4)];
    const second = held.nextRound();
    held.rounds[0]?.finish();
    assert.equal(await first, 10);
    await second;
    assert.deepEqual(
      held.rounds.map((round) => round.items),
      [[1], [2, 3, 4]],
    );
    held.rounds[1]?.finish();
    assert.deepEqual(await Promise.all(later), [20, 30, 40]);
  });

  it('caps a round at maxItems and carries the rest', async () => {
    const held = heldWrites();
    const coalescer = createCoalescer(held.write, { maxItems: 2 });
    const all = [1, 2, 3, 4, 5].map((item) => coalescer.add(item));
    for (let round = 0; round < 3; round += 1) {
      const next = held.nextRound();
      held.rounds[round]?.finish();
      if (round < 2) await next;
    }
    assert.deepEqual(await Promise.all(all), [10, 20, 30, 40, 50]);
    assert.deepEqual(
      held.rounds.map((round) => round.items),
      [[1], [2, 3], [4, 5]],
    );
  });

  it('rejects the callers of a failed round only, and goes on with the next', async () => {
    const held = heldWrites();
    const coalescer = createCoalescer(held.write, { maxItems: 10 });
    const failed = coalescer.add(1);
    const next = coalescer.add(2);
    const second = held.nextRound();
    held.rounds[0]?.finish(new Error('database went away'));
    await assert.rejects(failed, /database went away/);
    await second;
    held.rounds[1]?.finish();
    assert.equal(await next, 20);
  });
});

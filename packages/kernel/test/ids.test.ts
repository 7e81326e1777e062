import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createUuidV7Generator } from '../src/ids.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidV7', () => {
  it('makes version 7, RFC 9562 variant ids carrying the millisecond', () => {
    const ms = Date.UTC(2026, 10, 23, 4, 5, 6, 789);
    const id = createUuidV7Generator(() => ms)();
    assert.match(id, UUID_V7);
    assert.equal(Number.parseInt(id.replace('-', '').slice(0, 12), 16), ms);
  });

  it('sorts in creation order within one millisecond and across them, and never repeats', () => {
    const ms = 1_795_000_000_000;
    let calls = 0;
    // 10,000 ids per millisecond: more than the 12-bit counter holds, so it must borrow ahead.
    const ids = createUuidV7Generator(() => ms + Math.floor(calls++ / 10_000));
    const made = Array.from({ length: 50_000 }, () => ids());
    assert.equal(new Set(made).size, made.length);
    assert.deepEqual([...made].sort(), made);
    for (const id of made) assert.match(id, UUID_V7);
  });

  it('differs between generators in the same millisecond (the random part is random)', () => {
    const ms = 1_795_000_000_000;
    const first = Array.from(
      { length: 1_000 },
      createUuidV7Generator(() => ms),
    );
    const second = new Set(
      Array.from(
        { length: 1_000 },
        createUuidV7Generator(() => ms),
      ),
    );
    assert.equal(first.filter((id) => second.has(id)).length, 0);
    // The 62 random bits after the counter vary from id to id, not only the counter.
    assert.ok(new Set(first.map((id) => id.slice(19))).size > 990);
  });
});

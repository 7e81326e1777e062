import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePageCursor, encodePageCursor, isTimestamp } from '../src/page-cursor.ts';
import { HttpProblem } from '../src/problem.ts';

const readAt = ({ at }: Record<string, unknown>) => (isTimestamp(at) ? { at } : undefined);

describe('page cursors', () => {
  it('give back the position they were made from', () => {
    const at = '2026-11-23T05:00:00.000Z';
    assert.deepEqual(decodePageCursor(encodePageCursor({ at }), readAt), { at });
  });

  it('answer 400 naming cursor for text that is not one of ours', () => {
    const arrayCursor = Buffer.from('["2026-11-23T05:00:00.000Z"]').toString('base64url');
    const wrongField = encodePageCursor({ at: 'yesterday' });
    for (const text of ['', 'not base64 json', arrayCursor, wrongField, encodePageCursor({})]) {
      assert.throws(
        () => decodePageCursor(text, readAt),
        (error: unknown) =>
          error instanceof HttpProblem &&
          error.status === 400 &&
          JSON.stringify(error.problem).includes('"field":"cursor"'),
        text,
      );
    }
  });
});

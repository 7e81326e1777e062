import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bucketCount,
  checkActivityInput,
  decodeSourceMessage,
  messageOf,
  newActivityEvent,
} from '../src/domain.ts';

const types = ['LOGIN', 'LOGOUT', 'PRODUCT_VIEW'];

describe('activity domain', () => {
  it('given a valid body, when checked, then it keeps userId, eventType and payload', () => {
    assert.deepEqual(checkActivityInput({ userId: 'u1', eventType: 'LOGIN', payload: { a: 1 } }, types), {
      input: { userId: 'u1', eventType: 'LOGIN', payload: { a: 1 } },
    });
  });

  it('given several problems, when checked, then every one is reported in source D words', () => {
    const result = checkActivityInput({ userId: ' ', eventType: 'JUMP', payload: null }, types);
    assert.ok('problems' in result);
    assert.deepEqual(result.problems.map(messageOf), [
      'userId must be a non-empty string',
      'eventType must be one of LOGIN, LOGOUT, PRODUCT_VIEW',
      'payload must be a JSON object',
    ]);
  });

  it('given an input, when made an event, then the server sets eventId and timestamp', () => {
    const at = new Date('2026-11-22T10:00:00.000Z');
    assert.deepEqual(newActivityEvent({ userId: 'u', eventType: 'LOGOUT' }, 'id-1', at), {
      eventId: 'id-1',
      userId: 'u',
      eventType: 'LOGOUT',
      timestamp: '2026-11-22T10:00:00.000Z',
    });
  });

  it("reads source D's own messages as CloudEvents and leaves everything else to the usual reading", () => {
    const eventId = '0f8fad5b-d9cb-469f-a165-70867728950e';
    const value = Buffer.from(
      JSON.stringify({ eventId, userId: 'u', eventType: 'LOGIN', timestamp: '2026-11-22T10:00:00Z' }),
    );
    const decoded = decodeSourceMessage({ value }) as { id: string; partitionkey: string; data: unknown };
    assert.equal(decoded.id, eventId);
    assert.equal(decoded.partitionkey, 'u');
    assert.equal(
      decodeSourceMessage({ value, headers: { ce_id: eventId } }),
      undefined,
      'binary-mode CloudEvent',
    );
    assert.equal(
      decodeSourceMessage({ value: Buffer.from('{oops') }),
      undefined,
      'not JSON: the runner dead-letters it',
    );
    assert.equal(
      decodeSourceMessage({ value: Buffer.from('{"eventId":"7"}') }),
      undefined,
      'eventId not a UUID',
    );
  });

  it('counts stats buckets to refuse ranges too fine to answer', () => {
    const from = new Date('2026-11-22T00:00:00Z');
    assert.equal(bucketCount(from, new Date('2026-11-23T00:00:00Z'), 'hour'), 24);
    assert.equal(bucketCount(from, new Date('2026-11-22T00:30:00Z'), 'hour'), 1);
  });
});

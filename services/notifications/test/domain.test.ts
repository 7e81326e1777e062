import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeliveryStatus } from '@switchyard/contracts';
import { afterAttempt } from '../src/domain.ts';

type Report = Parameters<typeof afterAttempt>[1];

/** The status consumer folds a batch's reports of one delivery in the order they were sent. */
function fold(start: DeliveryStatus, reports: Report[]) {
  return reports.reduce((current, report) => afterAttempt(current, report), {
    status: start,
    reason: null as string | null,
  });
}

describe('afterAttempt: a delivery after each attempt report', () => {
  it('stays pending through retries and ends sent, without a reason', () => {
    assert.deepEqual(
      fold('pending', [
        { outcome: 'retrying', error: 'smtp: connection refused' },
        { outcome: 'retrying', error: 'smtp: connection refused' },
        { outcome: 'sent', error: null },
      ]),
      { status: 'sent', reason: null },
    );
  });

  it('fails with the last error, and a replay that succeeds clears it', () => {
    const failed = fold('pending', [
      { outcome: 'retrying', error: 'timeout' },
      { outcome: 'failed', error: 'smtp: 421 try later' },
    ]);
    assert.deepEqual(failed, { status: 'failed', reason: 'smtp: 421 try later' });
    assert.deepEqual(afterAttempt(failed, { outcome: 'sent', error: null }), {
      status: 'sent',
      reason: null,
    });
  });

  it('keeps a delivered or skipped delivery as it is, whatever comes later', () => {
    assert.deepEqual(fold('delivered', [{ outcome: 'failed', error: 'late report' }]).status, 'delivered');
    assert.deepEqual(fold('skipped', [{ outcome: 'sent', error: null }]).status, 'skipped');
  });

  it('cancels only what is still pending, and a sent delivery does not fall back to failed', () => {
    assert.equal(
      fold('pending', [{ outcome: 'cancelled', error: 'cancelled before sending' }]).status,
      'cancelled',
    );
    assert.equal(fold('sent', [{ outcome: 'cancelled', error: null }]).status, 'sent');
    assert.equal(fold('sent', [{ outcome: 'failed', error: 'a repeat failed' }]).status, 'sent');
  });
});

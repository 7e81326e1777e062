import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isInQuietHours, type QuietHours } from '@switchyard/contracts';

const quiet = (start: string, end: string, time_zone: string) => ({
  quiet_hours: { start, end, time_zone } satisfies QuietHours,
});
const at = (iso: string) => new Date(iso);

describe('isInQuietHours', () => {
  it('given no quiet hours, then no instant is quiet', () => {
    assert.equal(isInQuietHours({ quiet_hours: null }, at('2026-01-01T03:00:00Z')), false);
  });

  it('given 09:00–17:00 UTC, then the start minute is quiet and the end minute is not', () => {
    const window = quiet('09:00', '17:00', 'UTC');
    assert.equal(isInQuietHours(window, at('2026-01-01T08:59:59Z')), false);
    assert.equal(isInQuietHours(window, at('2026-01-01T09:00:00Z')), true);
    assert.equal(isInQuietHours(window, at('2026-01-01T16:59:59Z')), true);
    assert.equal(isInQuietHours(window, at('2026-01-01T17:00:00Z')), false);
  });

  it('given 22:00–07:00 in Europe/Berlin, then it crosses midnight on local time in winter (UTC+1)', () => {
    const window = quiet('22:00', '07:00', 'Europe/Berlin');
    assert.equal(isInQuietHours(window, at('2026-01-15T20:59:00Z')), false); // 21:59 local
    assert.equal(isInQuietHours(window, at('2026-01-15T21:00:00Z')), true); // 22:00
    assert.equal(isInQuietHours(window, at('2026-01-15T23:30:00Z')), true); // 00:30
    assert.equal(isInQuietHours(window, at('2026-01-16T05:59:00Z')), true); // 06:59
    assert.equal(isInQuietHours(window, at('2026-01-16T06:00:00Z')), false); // 07:00
    assert.equal(isInQuietHours(window, at('2026-01-16T12:00:00Z')), false); // 13:00
  });

  it('given 22:00–07:00 in Europe/Berlin, then in summer (UTC+2) it starts an hour earlier in UTC', () => {
    const window = quiet('22:00', '07:00', 'Europe/Berlin');
    assert.equal(isInQuietHours(window, at('2026-07-15T19:59:00Z')), false); // 21:59 local
    assert.equal(isInQuietHours(window, at('2026-07-15T20:00:00Z')), true); // 22:00
    assert.equal(isInQuietHours(window, at('2026-07-16T04:59:00Z')), true); // 06:59
    assert.equal(isInQuietHours(window, at('2026-07-16T05:00:00Z')), false); // 07:00
  });

  it('given a start the spring-forward skips (02:30 on 29 March 2026 in Berlin), then quiet begins at 03:00', () => {
    const window = quiet('02:30', '04:00', 'Europe/Berlin');
    assert.equal(isInQuietHours(window, at('2026-03-29T00:59:00Z')), false); // 01:59 CET
    assert.equal(isInQuietHours(window, at('2026-03-29T01:00:00Z')), true); // 03:00 CEST
    assert.equal(isInQuietHours(window, at('2026-03-29T01:59:00Z')), true); // 03:59 CEST
    assert.equal(isInQuietHours(window, at('2026-03-29T02:00:00Z')), false); // 04:00 CEST
  });

  it('given 02:00–02:30 on the fall-back night (25 October 2026 in Berlin), then both 02:00s are quiet', () => {
    const window = quiet('02:00', '02:30', 'Europe/Berlin');
    assert.equal(isInQuietHours(window, at('2026-10-25T00:00:00Z')), true); // 02:00 CEST
    assert.equal(isInQuietHours(window, at('2026-10-25T00:30:00Z')), false); // 02:30 CEST
    assert.equal(isInQuietHours(window, at('2026-10-25T01:00:00Z')), true); // 02:00 CET
    assert.equal(isInQuietHours(window, at('2026-10-25T01:29:00Z')), true); // 02:29 CET
    assert.equal(isInQuietHours(window, at('2026-10-25T01:30:00Z')), false); // 02:30 CET
  });

  it('given a zone with a half-hour offset (Asia/Kolkata, UTC+5:30), then minutes line up', () => {
    const window = quiet('23:00', '06:30', 'Asia/Kolkata');
    assert.equal(isInQuietHours(window, at('2026-05-01T17:29:00Z')), false); // 22:59 local
    assert.equal(isInQuietHours(window, at('2026-05-01T17:30:00Z')), true); // 23:00
    assert.equal(isInQuietHours(window, at('2026-05-02T00:59:00Z')), true); // 06:29
    assert.equal(isInQuietHours(window, at('2026-05-02T01:00:00Z')), false); // 06:30
  });

  it('given a window just after midnight, then 00:00 local is quiet (no 24:00 hour)', () => {
    const window = quiet('00:00', '01:00', 'America/New_York');
    assert.equal(isInQuietHours(window, at('2026-01-15T05:00:00Z')), true); // 00:00 EST
    assert.equal(isInQuietHours(window, at('2026-01-15T04:59:00Z')), false); // 23:59 EST
  });
});

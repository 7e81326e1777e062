import { randomFillSync } from 'node:crypto';

/** Wall clock, passed in so tests can pin time. */
export type Clock = () => Date;
/** Produces a new unique id (UUIDv7 in production). */
export type IdGenerator = () => string;

export const systemClock: Clock = () => new Date();

/**
 * UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then a 12-bit counter seeded at random each millisecond
 * and incremented within it, so ids made by one process sort in creation order.
 */
export function createUuidV7Generator(now: () => number = Date.now): IdGenerator {
  let lastMs = -1;
  let counter = 0;
  // Random bytes are taken from a pool filled a few KB at a time: a call into the CSPRNG per id cost
  // more than the rest of making the id.
  const pool = Buffer.alloc(4096);
  let used = pool.length;
  const take = (count: number): number => {
    if (used + count > pool.length) {
      randomFillSync(pool);
      used = 0;
    }
    used += count;
    return used - count;
  };
  const bytes = Buffer.alloc(16);
  return () => {
    let ms = now();
    if (ms <= lastMs) {
      ms = lastMs;
      counter += 1;
      if (counter > 0xfff) {
        // Counter exhausted within one millisecond: borrow the next millisecond rather than repeat.
        ms = lastMs + 1;
        counter = 0;
      }
    } else {
      counter = pool.readUInt16BE(take(2)) & 0x7ff;
    }
    lastMs = ms;
    const at = take(8);
    pool.copy(bytes, 8, at, at + 8);
    bytes.writeUIntBE(ms, 0, 6);
    bytes[6] = 0x70 | (counter >> 8);
    bytes[7] = counter & 0xff;
    bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
}

export const uuidV7: IdGenerator = createUuidV7Generator();

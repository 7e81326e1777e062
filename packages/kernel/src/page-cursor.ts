import { problems } from './problem.ts';

/**
 * The opaque `X-Next-Cursor` of a list: a position (the last item's sort keys) as base64url JSON. It is
 * not signed; whoever sends one back can only ask for another page of what they may list anyway.
 */
export function encodePageCursor(position: object): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/**
 * The position a cursor holds, checked field by field by `read` (undefined: not one of ours), or a 400
 * naming `cursor` when it is not a cursor this API wrote.
 */
export function decodePageCursor<T>(
  text: string,
  read: (fields: Record<string, unknown>) => T | undefined,
): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const value =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? read(parsed as Record<string, unknown>)
      : undefined;
  if (value === undefined) {
    throw problems.validation(
      [{ field: 'cursor', in: 'query', reason: 'is not a cursor returned by this API (X-Next-Cursor)' }],
      'The request query has invalid fields',
    );
  }
  return value;
}

/** An ISO 8601 time stamp as the API writes them (a creation time kept in a cursor). */
export function isTimestamp(text: unknown): text is string {
  return typeof text === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(Date.parse(text));
}

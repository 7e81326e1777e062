/** Source system D's event, exactly as its clients send, receive and read it. */
export interface ActivityEvent {
  eventId: string;
  userId: string;
  eventType: string;
  timestamp: string;
  payload?: Record<string, unknown>;
}

export const DEFAULT_EVENT_TYPES = ['LOGIN', 'LOGOUT', 'PRODUCT_VIEW'];
export const USER_ID_MAX_LENGTH = 256;
export const PAYLOAD_MAX_BYTES = 64 * 1024;
export const ACTIVITY_TOPIC = 'user-activity-events';
export const ACTIVITY_GROUP = 'user-activity-consumer-group';
/** CloudEvents type of every activity event; the source's `eventType` stays inside `data`. */
export const ACTIVITY_EVENT_TYPE = 'user.activity';

export interface ActivityProblem {
  field: string;
  reason: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a generate request the way source D does, reporting every problem at once. Returns the fields to
 * keep, or the problems (field + reason) — each becomes one message in the source's `errors` list.
 */
export function checkActivityInput(
  body: unknown,
  eventTypes: readonly string[],
):
  | { input: { userId: string; eventType: string; payload?: Record<string, unknown> } }
  | { problems: ActivityProblem[] } {
  if (!isPlainObject(body)) return { problems: [{ field: 'body', reason: 'must be a JSON object' }] };
  const problems: ActivityProblem[] = [];
  const { userId, eventType, payload } = body;
  for (const key of Object.keys(body)) {
    if (!['userId', 'eventType', 'payload'].includes(key))
      problems.push({ field: key, reason: 'is not a known field' });
  }
  if (userId === undefined || userId === null) problems.push({ field: 'userId', reason: 'is required' });
  else if (typeof userId !== 'string' || userId.trim() === '') {
    problems.push({ field: 'userId', reason: 'must be a non-empty string' });
  } else if (userId.length > USER_ID_MAX_LENGTH) {
    problems.push({ field: 'userId', reason: `must be at most ${USER_ID_MAX_LENGTH} characters` });
  }
  if (eventType === undefined || eventType === null)
    problems.push({ field: 'eventType', reason: 'is required' });
  else if (typeof eventType !== 'string' || !eventTypes.includes(eventType)) {
    problems.push({ field: 'eventType', reason: `must be one of ${eventTypes.join(', ')}` });
  }
  if (payload !== undefined) {
    if (!isPlainObject(payload)) problems.push({ field: 'payload', reason: 'must be a JSON object' });
    else if (Buffer.byteLength(JSON.stringify(payload)) > PAYLOAD_MAX_BYTES) {
      problems.push({ field: 'payload', reason: `must be at most ${PAYLOAD_MAX_BYTES} bytes as JSON` });
    }
  }
  if (problems.length > 0) return { problems };
  return {
    input: {
      userId: userId as string,
      eventType: eventType as string,
      ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
    },
  };
}

/** Source D's message text for a problem: `userId is required`. */
export function messageOf(problem: ActivityProblem): string {
  return problem.field === 'body' ? `Request body ${problem.reason}` : `${problem.field} ${problem.reason}`;
}

export function newActivityEvent(
  input: { userId: string; eventType: string; payload?: Record<string, unknown> },
  eventId: string,
  now: Date,
): ActivityEvent {
  return {
    eventId,
    userId: input.userId,
    eventType: input.eventType,
    timestamp: now.toISOString(),
    ...(input.payload !== undefined ? { payload: input.payload } : {}),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A message in source D's own format (from one of its producers, not through Switchyard's outbox) as the
 * CloudEvent it stands for; undefined when it is not in that format, so it is read as a CloudEvent.
 */
export function decodeSourceMessage(message: { value: unknown; headers?: Record<string, string> }): unknown {
  if (message.headers?.ce_id !== undefined || !Buffer.isBuffer(message.value)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(message.value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isPlainObject(value) || typeof value.eventId !== 'string' || !UUID.test(value.eventId))
    return undefined;
  const userId = typeof value.userId === 'string' && value.userId !== '' ? value.userId : 'unknown';
  return {
    specversion: '1.0',
    id: value.eventId,
    type: ACTIVITY_EVENT_TYPE,
    source: '/user-activity-events',
    subject: userId,
    time: typeof value.timestamp === 'string' ? value.timestamp : new Date(0).toISOString(),
    partitionkey: userId,
    datacontenttype: 'application/json',
    data: value,
  };
}

export const STATS_INTERVALS = ['minute', 'hour', 'day'] as const;
export type StatsInterval = (typeof STATS_INTERVALS)[number];
/** Most buckets one stats request may ask for. */
export const MAX_STATS_BUCKETS = 10_000;

export function bucketCount(from: Date, to: Date, interval: StatsInterval): number {
  const size = { minute: 60_000, hour: 3_600_000, day: 86_400_000 }[interval];
  return Math.ceil((to.getTime() - from.getTime()) / size);
}

import { OUTBOX_ID_HEADER } from './dead-letters.ts';
import type { OutboxText } from './outbox.ts';
import type { TransportMessage } from './transport.ts';

/**
 * CloudEvents' binary content mode, as the Kafka and AMQP bindings define it: the message value is the
 * event's `data` as JSON and every other attribute travels as a `ce_` header. Consumers of a topic that
 * know nothing of CloudEvents (source D's clients, say) read the plain data they expect.
 */
const PREFIX = 'ce_';
/** The attributes that travel as `ce_` headers; the relay reads them (`readOutboxText`) in this order. */
export const BROKER_ATTRIBUTES = [
  'specversion',
  'id',
  'type',
  'source',
  'subject',
  'time',
  'partitionkey',
  'correlationid',
  'causationid',
  'traceparent',
] as const;

/** The message for an outbox row read with `readOutboxText(…, BROKER_ATTRIBUTES)`. */
export function toBrokerMessage(record: OutboxText, topic: string): TransportMessage {
  const headers: Record<string, string> = { ...record.headers, [OUTBOX_ID_HEADER]: record.eventId };
  for (let index = 0; index < BROKER_ATTRIBUTES.length; index += 1) {
    const value = record.attributes[index];
    if (value !== null && value !== undefined) headers[`${PREFIX}${BROKER_ATTRIBUTES[index]}`] = value;
  }
  headers['content-type'] = 'application/json';
  return { topic, key: record.key, value: Buffer.from(record.data), headers };
}

/**
 * The structured envelope a message stands for: rebuilt from `ce_` headers in binary mode, or the value
 * itself in structured mode. Returns an error text when the value is not JSON.
 */
export function envelopeOf(
  value: unknown,
  headers: Record<string, string> | undefined,
): { envelope: unknown } | { error: string } {
  let parsed: unknown = value;
  if (Buffer.isBuffer(value)) {
    try {
      parsed = JSON.parse(value.toString('utf8'));
    } catch (error) {
      return { error: `not JSON: ${(error as Error).message}` };
    }
  }
  if (!headers || headers[`${PREFIX}id`] === undefined) return { envelope: parsed };
  const envelope: Record<string, unknown> = { datacontenttype: 'application/json', data: parsed };
  for (const attribute of BROKER_ATTRIBUTES) {
    const header = headers[`${PREFIX}${attribute}`];
    if (header !== undefined) envelope[attribute] = header;
  }
  return { envelope };
}

import type { Clock, IdGenerator } from '@switchyard/kernel';

/**
 * A CloudEvents 1.0 event (structured JSON mode) with the extension attributes Switchyard relies on:
 * W3C trace context, correlation and causation ids, and the partition key that keeps order.
 */
export interface CloudEvent<TData = unknown, TType extends string = string> {
  specversion: '1.0';
  id: string;
  type: TType;
  source: string;
  /** The aggregate the event is about, e.g. a task id. */
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: TData;
  partitionkey: string;
  correlationid?: string;
  causationid?: string;
  traceparent?: string;
}

/** What a service says happened; the envelope fields are filled in by `createEvent`. */
export interface NewEvent<TData = unknown, TType extends string = string> {
  type: TType;
  subject: string;
  data: TData;
  /** Defaults to the subject, so events about one aggregate stay in order. */
  partitionKey?: string;
}

/** Where the event came from in the request or message that caused it. */
export interface EventOrigin {
  correlationId?: string;
  causationId?: string;
  traceparent?: string;
}

/** The origin of the events that `event` causes: caused by it, in its correlation and trace. */
export function originOf(event: CloudEvent): EventOrigin {
  return {
    causationId: event.id,
    ...(event.correlationid ? { correlationId: event.correlationid } : {}),
    ...(event.traceparent ? { traceparent: event.traceparent } : {}),
  };
}

export interface EnvelopeDeps {
  clock: Clock;
  ids: IdGenerator;
  /** CloudEvents `source`, e.g. `/switchyard/tasks`. */
  source: string;
}

export function createEvent<TData, TType extends string>(
  event: NewEvent<TData, TType>,
  origin: EventOrigin,
  deps: EnvelopeDeps,
): CloudEvent<TData, TType> {
  return {
    specversion: '1.0',
    id: deps.ids(),
    type: event.type,
    source: deps.source,
    subject: event.subject,
    time: deps.clock().toISOString(),
    datacontenttype: 'application/json',
    data: event.data,
    partitionkey: event.partitionKey ?? event.subject,
    ...(origin.correlationId ? { correlationid: origin.correlationId } : {}),
    ...(origin.causationId ? { causationid: origin.causationId } : {}),
    ...(origin.traceparent ? { traceparent: origin.traceparent } : {}),
  };
}

import { appendToOutbox, type CloudEvent, createEvent, type EventOrigin } from '@switchyard/bus';
import {
  type ServiceDeps,
  TEMPLATE_EVENTS_TOPIC,
  type Template,
  type TemplateEventDataOf,
  type TemplateEventType,
} from '@switchyard/contracts';
import type { Queryable } from '@switchyard/kernel';

export const SOURCE = '/switchyard/templates';

type EnvelopeDeps = Pick<ServiceDeps, 'clock' | 'ids'>;

/**
 * A template event. The subject is `{code}:{language}`, what changed; the partition key is the code, so
 * one code's events stay in order whichever language they touch.
 */
export function templateEvent<T extends TemplateEventType>(
  deps: EnvelopeDeps,
  type: T,
  template: Pick<Template, 'code' | 'language'>,
  data: TemplateEventDataOf[T],
  origin: EventOrigin,
): CloudEvent<TemplateEventDataOf[T], T> {
  return createEvent(
    { type, subject: `${template.code}:${template.language}`, partitionKey: template.code, data },
    origin,
    { ...deps, source: SOURCE },
  );
}

export function appendTemplateEvents(tx: Queryable, events: CloudEvent[]): Promise<void> {
  return appendToOutbox(tx, TEMPLATE_EVENTS_TOPIC, events);
}

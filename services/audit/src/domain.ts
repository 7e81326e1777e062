import type { CatalogEvent } from '@switchyard/bus';
import type { TaskEventCatalog, TaskEventData, TaskEventType } from '@switchyard/contracts';

export type TaskEvent = CatalogEvent<typeof TaskEventCatalog>;

export interface TaskAuditEntry {
  id: string;
  event_type: TaskEventType;
  task_id: string;
  event_data: TaskEventData;
}

/** The audit row a (validated) task event becomes: the event's id, its type, and its whole data. */
export function auditEntryFor(event: TaskEvent): TaskAuditEntry {
  return { id: event.id, event_type: event.type, task_id: event.data.task.id, event_data: event.data };
}

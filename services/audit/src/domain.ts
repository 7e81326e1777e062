import type { CloudEvent } from '@switchyard/bus';
import { TASK_EVENT_TYPES, type TaskEventData, type TaskEventType } from '@switchyard/contracts';

export interface TaskAuditEntry {
  id: string;
  event_type: TaskEventType;
  task_id: string;
  event_data: TaskEventData;
}

/**
 * The audit row a task event becomes, or a reason it cannot become one. The row keeps the whole
 * envelope's data so the history shows what the task looked like at each step.
 */
export function auditEntryFor(event: CloudEvent): TaskAuditEntry | { rejected: string } {
  if (!(TASK_EVENT_TYPES as readonly string[]).includes(event.type))
    return { rejected: `unknown type ${event.type}` };
  const data = event.data as Partial<TaskEventData> | null;
  if (typeof data?.task?.id !== 'string') return { rejected: 'data.task.id is missing' };
  return {
    id: event.id,
    event_type: event.type as TaskEventType,
    task_id: data.task.id,
    event_data: data as TaskEventData,
  };
}

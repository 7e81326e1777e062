import { defineSubscription, TASK_EVENTS_TOPIC, TaskEventCatalog } from '@switchyard/contracts';
import { auditEntryFor } from './domain.ts';
import { recordTaskEvent } from './store.ts';

/** Consumer group of source system B's audit consumer. */
export const TASK_AUDIT_GROUP = 'task-audit';

/** Every task event becomes one `task_audit_log` row; a malformed one goes to dead letters instead. */
export const taskAuditSubscription = defineSubscription({
  group: TASK_AUDIT_GROUP,
  topics: [TASK_EVENTS_TOPIC],
  catalog: TaskEventCatalog,
  handler: async (event, { tx }) => {
    await recordTaskEvent(tx, auditEntryFor(event));
  },
});

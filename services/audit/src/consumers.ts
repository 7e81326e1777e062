import type { EventHandler } from '@switchyard/bus';
import { auditEntryFor } from './domain.ts';
import { recordTaskEvent } from './store.ts';

/** Consumer group of source system B's audit consumer. */
export const TASK_AUDIT_GROUP = 'task-audit';

export const recordTaskAudit: EventHandler = async (event, { tx, log }) => {
  const entry = auditEntryFor(event);
  if ('rejected' in entry) {
    // Nothing to record and nothing a retry would fix; dead-lettering arrives with the consumer runner's policies.
    log.warn({ reason: entry.rejected }, 'task event not auditable; skipped');
    return;
  }
  await recordTaskEvent(tx, entry);
};

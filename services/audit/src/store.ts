import type { Queryable } from '@switchyard/kernel';
import type { TaskAuditEntry } from './domain.ts';

export interface TaskAuditRecord extends TaskAuditEntry {
  processed_at: string;
}

/** Writes the entry once; a second write of the same event id changes nothing. */
export async function recordTaskEvent(db: Queryable, entry: TaskAuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO audit.task_audit_log (id, event_type, task_id, event_data) VALUES ($1, $2, $3, $4)
     ON CONFLICT (id) DO NOTHING`,
    [entry.id, entry.event_type, entry.task_id, JSON.stringify(entry.event_data)],
  );
}

/** A task's history, oldest first; event ids are UUIDv7, so they break ties in creation order. */
export async function taskHistory(db: Queryable, taskId: string): Promise<TaskAuditRecord[]> {
  const result = await db.query<TaskAuditEntry & { processed_at: Date }>(
    `SELECT id, event_type, task_id, event_data, processed_at FROM audit.task_audit_log
      WHERE task_id = $1 ORDER BY processed_at, id`,
    [taskId],
  );
  return result.rows.map((row) => ({ ...row, processed_at: row.processed_at.toISOString() }));
}

-- Source system B's audit table. `id` is the id of the event that produced the row, so writing the
-- same event twice is impossible by construction, whatever the delivery path.
CREATE TABLE task_audit_log (
  id uuid PRIMARY KEY,
  event_type text NOT NULL,
  task_id uuid NOT NULL,
  event_data jsonb NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX task_audit_log_task ON task_audit_log (task_id, processed_at, id);

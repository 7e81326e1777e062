-- The user who created the task. Members see only their own; tasks from before identity existed have no
-- owner and are visible to operators and admins only.
ALTER TABLE tasks.tasks ADD COLUMN owner_id uuid;
CREATE INDEX tasks_owner_created ON tasks.tasks (owner_id, created_at, id);

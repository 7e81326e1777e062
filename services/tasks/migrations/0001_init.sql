-- Tasks (source system B). Timestamps come from the application clock at millisecond precision, so the
-- keyset cursors built from them compare exactly.
CREATE TABLE tasks (
  id uuid PRIMARY KEY,
  title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 255),
  description text CHECK (char_length(description) <= 10000),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'in_progress', 'completed')),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX tasks_created ON tasks (created_at, id);
CREATE INDEX tasks_updated ON tasks (updated_at, id);
CREATE INDEX tasks_title ON tasks (title, id);
CREATE INDEX tasks_status_created ON tasks (status, created_at, id);

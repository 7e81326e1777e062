import type { Task, TaskStatus } from '@switchyard/contracts';
import type { Queryable } from '@switchyard/kernel';
import type { ListCursor, ListSort } from './domain.ts';

interface TaskRow {
  id: string;
  title: string;
  description: string | null;
  status: TaskStatus;
  created_at: Date;
  updated_at: Date;
  owner_id: string | null;
}

const COLUMNS = 'id, title, description, status, created_at, updated_at, owner_id';

function toTask(row: TaskRow): Task {
  return { ...row, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() };
}

/**
 * Inserts the task and runs `event` (a statement numbering its parameters from $8: the outbox insert of
 * the task's event) in the same statement, so both commit together in one round trip.
 */
export async function insertTaskWithEvent(
  db: Queryable,
  task: Task,
  event: { sql: string; values: unknown[] },
): Promise<void> {
  await db.query(
    `WITH task AS (INSERT INTO tasks.tasks (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING 1),
          event AS (${event.sql})
     SELECT 1`,
    [
      task.id,
      task.title,
      task.description,
      task.status,
      task.created_at,
      task.updated_at,
      task.owner_id ?? null,
      ...event.values,
    ],
  );
}

export async function findTask(
  db: Queryable,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<Task | null> {
  const result = await db.query<TaskRow>(
    `SELECT ${COLUMNS} FROM tasks.tasks WHERE id = $1${options.forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  const row = result.rows[0];
  return row ? toTask(row) : null;
}

export async function updateTask(db: Queryable, task: Task): Promise<void> {
  await db.query(
    'UPDATE tasks.tasks SET title = $2, description = $3, status = $4, updated_at = $5 WHERE id = $1',
    [task.id, task.title, task.description, task.status, task.updated_at],
  );
}

/** Deletes the task, only when `ownerId` (if given) owns it. */
export async function deleteTask(db: Queryable, id: string, ownerId?: string): Promise<Task | null> {
  const result = await db.query<TaskRow>(
    `DELETE FROM tasks.tasks WHERE id = $1 AND ($2::uuid IS NULL OR owner_id = $2) RETURNING ${COLUMNS}`,
    [id, ownerId ?? null],
  );
  const row = result.rows[0];
  return row ? toTask(row) : null;
}

export interface ListQuery {
  status?: TaskStatus;
  /** Only tasks whose title contains this text, ignoring case (`%` and `_` match themselves). */
  titleContains?: string;
  /** Only this user's tasks. */
  ownerId?: string;
  sort: ListSort;
  after?: ListCursor;
  limit: number;
}

/** One page in keyset order; the sort field and direction come from a closed list, never from input text. */
export async function listTasks(db: Queryable, query: ListQuery): Promise<Task[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  if (query.status) {
    values.push(query.status);
    where.push(`status = $${values.length}`);
  }
  if (query.titleContains) {
    values.push(`%${query.titleContains.replace(/[\\%_]/g, (char) => `\\${char}`)}%`);
    where.push(`title ILIKE $${values.length}`);
  }
  if (query.ownerId) {
    values.push(query.ownerId);
    where.push(`owner_id = $${values.length}`);
  }
  const field = query.sort.field;
  const direction = query.sort.descending ? 'DESC' : 'ASC';
  if (query.after) {
    values.push(field === 'title' ? query.after.value : new Date(query.after.value), query.after.id);
    where.push(
      `(${field}, id) ${query.sort.descending ? '<' : '>'} ($${values.length - 1}, $${values.length})`,
    );
  }
  values.push(query.limit);
  const result = await db.query<TaskRow>(
    `SELECT ${COLUMNS} FROM tasks.tasks
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ${field} ${direction}, id ${direction}
      LIMIT $${values.length}`,
    values,
  );
  return result.rows.map(toTask);
}

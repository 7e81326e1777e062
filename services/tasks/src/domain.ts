import type { Task, TaskChanges, TaskStatus } from '@switchyard/contracts';
import { HttpProblem } from '@switchyard/kernel';

export interface NewTaskInput {
  title: string;
  description?: string | null;
  status?: TaskStatus;
}

export type TaskPatch = Partial<{ title: string; description: string | null; status: TaskStatus }>;

export function newTask(input: NewTaskInput, id: string, now: Date, ownerId: string | null = null): Task {
  const at = now.toISOString();
  return {
    owner_id: ownerId,
    id,
    title: input.title,
    description: input.description ?? null,
    status: input.status ?? 'pending',
    created_at: at,
    updated_at: at,
  };
}

/**
 * Whose tasks a caller may see: everyone's with `tasks:all`, otherwise only their own (undefined means
 * no restriction).
 */
export function ownerScope(
  identity: { userId: string; role: string } | undefined,
  seesAll: boolean,
): string | undefined {
  if (seesAll) return undefined;
  return identity?.userId ?? '00000000-0000-0000-0000-000000000000';
}

export function visibleTo(task: Task, owner: string | undefined): boolean {
  return owner === undefined || task.owner_id === owner;
}

/** Applies a patch; returns null when it changes nothing, so no update and no event happen. */
export function applyPatch(
  task: Task,
  patch: TaskPatch,
  now: Date,
): { task: Task; changes: TaskChanges } | null {
  const changes: TaskChanges = {};
  if (patch.title !== undefined && patch.title !== task.title)
    changes.title = { from: task.title, to: patch.title };
  if (patch.description !== undefined && patch.description !== task.description) {
    changes.description = { from: task.description, to: patch.description };
  }
  if (patch.status !== undefined && patch.status !== task.status)
    changes.status = { from: task.status, to: patch.status };
  if (Object.keys(changes).length === 0) return null;
  return {
    task: {
      ...task,
      ...(changes.title ? { title: changes.title.to } : {}),
      ...(changes.description ? { description: changes.description.to } : {}),
      ...(changes.status ? { status: changes.status.to } : {}),
      updated_at: now.toISOString(),
    },
    changes,
  };
}

export const SORT_FIELDS = ['created_at', 'updated_at', 'title'] as const;
export type SortField = (typeof SORT_FIELDS)[number];

export interface ListSort {
  field: SortField;
  descending: boolean;
}

/** `created_at` ascending, `-created_at` descending. */
export function parseSort(value: string | undefined): ListSort {
  const text = value ?? '-created_at';
  const descending = text.startsWith('-');
  const field = (descending ? text.slice(1) : text) as SortField;
  if (!SORT_FIELDS.includes(field)) {
    throw new HttpProblem(400, 'validation', 'Bad Request', 'The request query has invalid fields', {
      errors: [
        {
          field: 'sort',
          in: 'query',
          reason: `must be one of ${SORT_FIELDS.join(', ')}, optionally prefixed with - for descending`,
        },
      ],
    });
  }
  return { field, descending };
}

/** Position after the last task of a page: its sort value and id, tied to the sort it was made for. */
export interface ListCursor {
  sort: string;
  value: string;
  id: string;
}

export function encodeCursor(sort: ListSort, task: Task): string {
  const cursor: ListCursor = { sort: sortKey(sort), value: task[sort.field], id: task.id };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeCursor(text: string, sort: ListSort): ListCursor {
  const invalid = (reason: string) =>
    new HttpProblem(400, 'validation', 'Bad Request', 'The request query has invalid fields', {
      errors: [{ field: 'cursor', in: 'query', reason }],
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalid('is not a cursor returned by this API');
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof (parsed as ListCursor).sort !== 'string' ||
    typeof (parsed as ListCursor).value !== 'string' ||
    typeof (parsed as ListCursor).id !== 'string' ||
    !/^[0-9a-f-]{36}$/i.test((parsed as ListCursor).id)
  ) {
    throw invalid('is not a cursor returned by this API');
  }
  const cursor = parsed as ListCursor;
  if (cursor.sort !== sortKey(sort))
    throw invalid(`was made for sort ${cursor.sort}; repeat that sort or start over`);
  if (sort.field !== 'title' && Number.isNaN(Date.parse(cursor.value)))
    throw invalid('is not a cursor returned by this API');
  return cursor;
}

function sortKey(sort: ListSort): string {
  return `${sort.descending ? '-' : ''}${sort.field}`;
}

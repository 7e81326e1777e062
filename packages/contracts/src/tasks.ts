import Type, { type Static, type TSchema } from 'typebox';

export const TASK_STATUSES = ['pending', 'in_progress', 'completed'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TITLE_MAX_LENGTH = 255;
export const DESCRIPTION_MAX_LENGTH = 10_000;

export const TaskStatusSchema = Type.Enum(TASK_STATUSES, { description: 'Where the task stands' });

export const TaskSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    title: Type.String({ minLength: 1, maxLength: TITLE_MAX_LENGTH }),
    description: Type.Union([Type.String({ maxLength: DESCRIPTION_MAX_LENGTH }), Type.Null()]),
    status: TaskStatusSchema,
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    // Optional so events written before tasks had owners still validate.
    owner_id: Type.Optional(Type.Union([Type.String({ format: 'uuid' }), Type.Null()])),
  },
  { $id: 'Task', additionalProperties: false },
);
export type Task = Static<typeof TaskSchema>;

/** Topic of task events (source system B's name). */
export const TASK_EVENTS_TOPIC = 'task-events';
export const TASK_EVENT_TYPES = ['task.created', 'task.updated', 'task.deleted'] as const;
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];

/** What changed in an update: field name → value before and after. */
export type TaskChanges = Partial<{
  [K in 'title' | 'description' | 'status']: { from: Task[K]; to: Task[K] };
}>;

const Change = <T extends TSchema>(value: T) =>
  Type.Object({ from: value, to: value }, { additionalProperties: false });

export const TaskEventDataSchema = Type.Object({
  task: TaskSchema,
  changes: Type.Optional(
    Type.Object(
      {
        title: Type.Optional(Change(TaskSchema.properties.title)),
        description: Type.Optional(Change(TaskSchema.properties.description)),
        status: Type.Optional(Change(TaskStatusSchema)),
      },
      { additionalProperties: false },
    ),
  ),
});

/** `data` of every task event: the task as it stands after the event (as it was, for a delete). */
export interface TaskEventData {
  task: Task;
  changes?: TaskChanges;
}

/** The task events and the schema of their data, for typed, validated subscriptions. */
export const TaskEventCatalog = {
  'task.created': TaskEventDataSchema,
  'task.updated': TaskEventDataSchema,
  'task.deleted': TaskEventDataSchema,
} satisfies Record<TaskEventType, TSchema>;

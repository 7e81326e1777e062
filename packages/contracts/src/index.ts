export {
  defineSubscription,
  type ServiceDeps,
  type ServiceModule,
  type SubscriptionSpec,
} from './service.ts';
export {
  DESCRIPTION_MAX_LENGTH,
  TASK_EVENT_TYPES,
  TASK_EVENTS_TOPIC,
  TASK_STATUSES,
  type Task,
  type TaskChanges,
  TaskEventCatalog,
  type TaskEventData,
  TaskEventDataSchema,
  type TaskEventType,
  TaskSchema,
  type TaskStatus,
  TaskStatusSchema,
  TITLE_MAX_LENGTH,
} from './tasks.ts';
export { SOURCE_TOPICS } from './topics.ts';

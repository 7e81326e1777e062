/**
 * The topics the source systems name, kept exactly; brokers get them declared at start so consumers and
 * operators find them before the first event.
 */
export const SOURCE_TOPICS = [
  'task-events',
  'user-activity-events',
  'notifications',
  'events',
  'batch-jobs',
  'dead-letter-queue',
];

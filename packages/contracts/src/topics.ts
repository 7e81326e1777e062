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
  // Ours, not a source system's: user.created/updated/deleted and user.preferences.updated, keyed by user id.
  'user-events',
  // Ours: template.created/updated/activated/deactivated, keyed by template code (cache invalidation, audit).
  'template-events',
];

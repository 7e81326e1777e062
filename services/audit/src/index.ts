import type { ServiceModule } from '@switchyard/contracts';
import { taskAuditSubscription } from './consumers.ts';
import { registerAuditRoutes } from './http.ts';

/** Audit: records every task event once in `task_audit_log` and serves a task's history. */
export const auditService: ServiceModule = {
  name: 'audit',
  migrations: [{ schema: 'audit', directory: new URL('../migrations/', import.meta.url) }],
  routes: registerAuditRoutes,
  subscriptions: () => [taskAuditSubscription],
};

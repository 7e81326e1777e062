import { type ServiceDeps, TASK_EVENT_TYPES } from '@switchyard/contracts';
import type { HttpApp } from '@switchyard/kernel';
import Type from 'typebox';
import { taskHistory } from './store.ts';

const AuditEntry = Type.Object({
  id: Type.String({ format: 'uuid', description: 'Id of the event recorded' }),
  event_type: Type.Enum(TASK_EVENT_TYPES),
  task_id: Type.String({ format: 'uuid' }),
  event_data: Type.Object({}, { additionalProperties: true }),
  processed_at: Type.String({ format: 'date-time' }),
});

export function registerAuditRoutes(app: HttpApp, deps: ServiceDeps): void {
  for (const { path, hide } of [
    { path: '/api/v1/tasks/:id/audit', hide: false },
    { path: '/api/tasks/:id/audit', hide: true },
  ]) {
    app.get(
      path,
      {
        schema: {
          hide,
          tags: ['audit'],
          summary: "A task's history, oldest first (kept after the task is deleted)",
          params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
          response: { 200: Type.Array(AuditEntry) },
        },
        config: { permission: 'audit:read' },
      },
      async (request) => taskHistory(deps.db, request.params.id),
    );
  }
}

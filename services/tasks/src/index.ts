import type { ServiceModule } from '@switchyard/contracts';
import { registerTaskRoutes } from './http.ts';

/** Tasks (source system B): CRUD at /api/v1/tasks and /api/tasks, events on `task-events`. */
export const tasksService: ServiceModule = {
  name: 'tasks',
  migrations: [{ schema: 'tasks', directory: new URL('../migrations/', import.meta.url) }],
  routes: registerTaskRoutes,
};

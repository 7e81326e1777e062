import type { ServiceDeps, ServiceModule } from '@switchyard/contracts';
import { createTemplateCache, type TemplateCache } from './cache.ts';
import { templatesCacheSubscription } from './consumers.ts';
import { registerTemplateRoutes } from './http.ts';
import { createLookup, createTemplateRenderer } from './renderer.ts';

// One cache view per set of deps, so routes and the renderer share the same logger-bound instance.
const caches = new WeakMap<ServiceDeps, TemplateCache>();
function templateCache(deps: ServiceDeps): TemplateCache {
  let cache = caches.get(deps);
  if (!cache) {
    cache = createTemplateCache(deps.cache, deps.log);
    caches.set(deps, cache);
  }
  return cache;
}

/**
 * Templates (source system C's template service): versions per code and language with activation and
 * rollback, language fallback, sandboxed LiquidJS rendering and previews at /api/v1/templates, events on
 * `template-events`, and the `TemplateRenderer` client the notification pipeline renders with.
 */
export const templatesService: ServiceModule = {
  name: 'templates',
  migrations: [{ schema: 'templates', directory: new URL('../migrations/', import.meta.url) }],
  routes: (app, deps) => registerTemplateRoutes(app, deps, templateCache(deps)),
  provides: (deps) => ({ templates: createTemplateRenderer(createLookup(deps, templateCache(deps))) }),
  subscriptions: (deps) => [templatesCacheSubscription(deps.cache)],
};
